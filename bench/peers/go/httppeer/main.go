// The Go peers of the I/O benchmark (issue 14, docs/benchmarks.md "Server
// I/O"): an HTTP/1.1 server answering GET /plaintext with the same bytes
// as every other system, either with net/http (-mode nethttp) or with a
// goroutine per connection on a raw net.Listener (-mode raw: reads,
// counts the complete request heads, writes that many answers in one
// write). Listens on 127.0.0.1:PORT (0: any free port) and prints
// "port N". GOMAXPROCS = -threads.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
)

const resp = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!"

var endOfHead = []byte("\r\n\r\n")

func serveRaw(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 8192)
	out := make([]byte, 0, 16*len(resp))
	have := 0
	for {
		n, err := c.Read(buf[have:])
		if err != nil {
			return
		}
		have += n
		start := 0
		out = out[:0]
		for {
			i := bytes.Index(buf[start:have], endOfHead)
			if i < 0 {
				break
			}
			start += i + 4
			out = append(out, resp...)
		}
		if len(out) > 0 {
			if _, err := c.Write(out); err != nil {
				return
			}
		}
		have = copy(buf, buf[start:have])
		if have == len(buf) {
			return // head too large
		}
	}
}

func main() {
	port := flag.Int("port", 0, "port on 127.0.0.1 (0: any free one)")
	mode := flag.String("mode", "raw", "raw | nethttp")
	threads := flag.Int("threads", runtime.NumCPU(), "GOMAXPROCS")
	flag.Parse()
	runtime.GOMAXPROCS(*threads)
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("port %d\n", ln.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	switch *mode {
	case "raw":
		for {
			c, err := ln.Accept()
			if err != nil {
				continue
			}
			go serveRaw(c)
		}
	case "nethttp":
		body := []byte("Hello, World!")
		http.HandleFunc("/plaintext", func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h["Content-Length"] = []string{"13"}
			h["Content-Type"] = []string{"text/plain"}
			h["Date"] = nil // no Date header: the same bytes as the other systems
			w.Write(body)
		})
		fmt.Fprintln(os.Stderr, http.Serve(ln, nil))
		os.Exit(1)
	default:
		fmt.Fprintln(os.Stderr, "unknown -mode", *mode)
		os.Exit(2)
	}
}
