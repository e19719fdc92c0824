// go-bench -- the fauxtp benchmark workloads written for Go (1.19).
//
//	go-bench NAME [--n N] [--threads T] [--json]      go-bench --list
//
// GOMAXPROCS is set to T (default: the number of cores), then one workload
// runs; only the work is timed. Idioms: a goroutine per actor, a buffered
// channel of 64 slots as its mailbox (see mailboxSlots), messages as small
// structs, and a call as a request carrying a reply channel. Every workload
// verifies its result; a wrong one exits 1 with a message on stderr.
// Standard library only: the build needs no network and no modules.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// mailboxSlots is every actor's mailbox capacity: a sender blocks while the
// receiver's channel is full (Go's backpressure), so workloads must not
// build cycles of full mailboxes; each workload says why it cannot.
const mailboxSlots = 64

// outcome is what a workload reports: the timed seconds, the operation
// count (DESIGN.md, "Performance contract") and extra figures.
type outcome struct {
	seconds float64
	ops     int64
	extra   []kv
}

type kv struct {
	key   string
	value float64
}

var benchName = "?"

// fail reports a wrong result and exits 1; callable from any goroutine.
func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go-bench: %s: verification failed: %s\n", benchName,
		fmt.Sprintf(format, args...))
	os.Exit(1)
}

func expect(ok bool, format string, args ...interface{}) {
	if !ok {
		fail(format, args...)
	}
}

func since(t0 time.Time) float64 { return time.Since(t0).Seconds() }

type benchDef struct {
	name     string
	defaultN int64
	run      func(n int64) outcome
}

var benches = []benchDef{
	{"pingpong", 1000000, benchPingpong},
	{"counting", 2000000, benchCounting},
	{"threadring", 2000000, benchThreadring},
	{"fjthrput", 200000, benchFjthrput},
	{"fjcreate", 100000, benchFjcreate},
	{"chameneos", 200000, benchChameneos},
	{"big", 20000, benchBig},
	{"skynet", 1000000, benchSkynet},
	{"mailbox", 100000, benchMailbox},
	{"spawnmem", 1000000, benchSpawnmem},
	{"callrt", 500000, benchCallrt},
	{"bndbuffer", 1000000, benchBndbuffer},
	{"philosopher", 20000, benchPhilosopher},
	{"barber", 200000, benchBarber},
	{"banking", 500000, benchBanking},
	{"trapezoid", 2000000, benchTrapezoid},
	{"fib", 27, benchFib},
}

func usage(msg string) {
	fmt.Fprintf(os.Stderr, "go-bench: %s\nusage: go-bench NAME [--n N] [--threads T] [--json] | --list\n", msg)
	os.Exit(2)
}

func positive(s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		usage("expected a positive integer, got " + s)
	}
	return v
}

func number(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func main() {
	args := os.Args[1:]
	if len(args) < 1 {
		usage("missing benchmark name")
	}
	if args[0] == "--list" {
		for _, b := range benches {
			fmt.Println(b.name)
		}
		for _, b := range latencyBenches {
			fmt.Println(b.name)
		}
		return
	}
	var def *benchDef
	for i := range benches {
		if benches[i].name == args[0] {
			def = &benches[i]
		}
	}
	for i := range latencyBenches {
		if latencyBenches[i].name == args[0] {
			def = &latencyBenches[i]
		}
	}
	if def == nil {
		usage("unknown benchmark " + args[0])
	}
	benchName = def.name
	n := def.defaultN
	threads := int64(runtime.NumCPU())
	json := false
	for i := 1; i < len(args); i++ {
		switch {
		case args[i] == "--n" && i+1 < len(args):
			i++
			n = positive(args[i])
		case args[i] == "--threads" && i+1 < len(args):
			i++
			threads = positive(args[i])
		case args[i] == "--json":
			json = true
		default:
			usage("bad argument " + args[i])
		}
	}
	runtime.GOMAXPROCS(int(threads))
	r := def.run(n)
	secs := r.seconds
	if secs <= 0 {
		secs = 1e-9
	}
	rate := float64(r.ops) / secs
	if json {
		extra := []string{fmt.Sprintf("\"ops\":%d", r.ops)}
		for _, e := range r.extra {
			extra = append(extra, fmt.Sprintf("\"%s\":%s", e.key, number(e.value)))
		}
		fmt.Printf("{\"bench\":\"%s\",\"system\":\"go\",\"n\":%d,\"threads\":%d,"+
			"\"seconds\":%.6f,\"ops_per_sec\":%.1f,\"extra\":{%s}}\n",
			def.name, n, threads, r.seconds, rate, strings.Join(extra, ","))
	} else {
		extra := ""
		for _, e := range r.extra {
			extra += " " + e.key + "=" + number(e.value)
		}
		fmt.Printf("go %s: n=%d threads=%d %.4f s, %d ops, %.0f ops/s (%.1f ns/op)%s\n",
			def.name, n, threads, r.seconds, r.ops, rate, r.seconds*1e9/float64(r.ops), extra)
	}
}
