package main

// Message-passing workloads: pingpong, counting, threadring, fjthrput and
// mailbox (see bench/peers/README.md for what each does).

import "time"

// --- pingpong ---------------------------------------------------------------

// Two goroutines bounce a message; each mailbox holds at most one message,
// so neither ever blocks on a full channel.
func benchPingpong(n int64) outcome {
	t0 := time.Now()
	ping := make(chan struct{}, mailboxSlots)
	pong := make(chan struct{}, mailboxSlots)
	pongSaw := make(chan int64, 1)
	pingSaw := make(chan int64, 1)
	go func() { // pong: answers n pings, then reports its count
		var pings int64
		for range pong {
			pings++
			ping <- struct{}{}
		}
		pongSaw <- pings
	}()
	go func() { // ping: n round trips
		var pongs int64
		pong <- struct{}{}
		for range ping {
			pongs++
			if pongs == n {
				break
			}
			pong <- struct{}{}
		}
		pingSaw <- pongs
	}()
	pongs := <-pingSaw
	secs := since(t0)
	close(pong)
	pings := <-pongSaw
	expect(pongs == n && pings == n, "ping saw %d pongs, pong saw %d pings, want %d", pongs, pings, n)
	return outcome{secs, 2 * n, nil}
}

// --- counting ---------------------------------------------------------------

// counterMsg is an increment, or (get != nil) a request for the total.
type counterMsg struct {
	get chan<- int64
}

func benchCounting(n int64) outcome {
	t0 := time.Now()
	counter := make(chan counterMsg, mailboxSlots)
	go func() {
		var count int64
		for m := range counter {
			if m.get != nil {
				m.get <- count
				return
			}
			count++
		}
	}()
	done := make(chan int64, 1)
	go func() { // producer: n increments, then a call for the total
		for i := int64(0); i < n; i++ {
			counter <- counterMsg{}
		}
		reply := make(chan int64, 1)
		counter <- counterMsg{get: reply}
		done <- <-reply
	}()
	total := <-done
	secs := since(t0)
	expect(total == n, "counter total %d, want %d", total, n)
	return outcome{secs, n, nil}
}

// --- threadring -------------------------------------------------------------

const ringSize = 100

// ringMsg is a token with the hops still to go, or (stop != nil) a request
// for the node's count of forwarded hops, after which the node exits.
type ringMsg struct {
	left int64
	stop chan<- int64
}

// Only one token circulates, so no mailbox ever holds more than one message.
func benchThreadring(n int64) outcome {
	t0 := time.Now()
	nodes := make([]chan ringMsg, ringSize)
	for i := range nodes {
		nodes[i] = make(chan ringMsg, mailboxSlots)
	}
	done := make(chan struct{}, 1)
	for i := range nodes {
		go func(self, next chan ringMsg) {
			var forwarded int64
			for m := range self {
				switch {
				case m.stop != nil:
					m.stop <- forwarded
					return
				case m.left == 0:
					done <- struct{}{}
				default:
					forwarded++
					next <- ringMsg{left: m.left - 1}
				}
			}
		}(nodes[i], nodes[(i+1)%ringSize])
	}
	nodes[0] <- ringMsg{left: n}
	<-done
	secs := since(t0)
	var hops int64
	reply := make(chan int64, 1)
	for _, node := range nodes {
		node <- ringMsg{stop: reply}
		hops += <-reply
	}
	expect(hops == n, "%d hops, want %d", hops, n)
	return outcome{secs, n, nil}
}

// --- fjthrput ---------------------------------------------------------------

const fjtActors = 60

// Savina's fork-join throughput: a driver goroutine sends n messages to each
// of 60 workers round-robin; each worker reports to the driver when it has
// counted n. The driver blocks while a worker's mailbox is full; workers
// never block on the driver (its report channel has a slot per worker).
func benchFjthrput(n int64) outcome {
	t0 := time.Now()
	reports := make(chan int64, fjtActors)
	done := make(chan int64, 1)
	go func() { // driver
		workers := make([]chan struct{}, fjtActors)
		for i := range workers {
			w := make(chan struct{}, mailboxSlots)
			workers[i] = w
			go func() {
				var count int64
				for range w {
					count++
					if count == n {
						reports <- count
						return
					}
				}
			}()
		}
		for k := int64(0); k < n; k++ {
			for _, w := range workers {
				w <- struct{}{}
			}
		}
		var total int64
		for i := 0; i < fjtActors; i++ {
			total += <-reports
		}
		done <- total
	}()
	total := <-done
	secs := since(t0)
	expect(total == fjtActors*n, "workers counted %d, want %d", total, fjtActors*n)
	return outcome{secs, fjtActors * n, nil}
}

// --- mailbox ----------------------------------------------------------------

const mailboxSenders = 100

// 100 senders flood one receiver; they block while its 64 slots are full.
func benchMailbox(n int64) outcome {
	total := mailboxSenders * n
	t0 := time.Now()
	receiver := make(chan struct{}, mailboxSlots)
	done := make(chan int64, 1)
	go func() {
		var count int64
		for range receiver {
			count++
			if count == total {
				done <- count
				return
			}
		}
	}()
	for i := 0; i < mailboxSenders; i++ {
		go func() {
			for k := int64(0); k < n; k++ {
				receiver <- struct{}{}
			}
		}()
	}
	got := <-done
	secs := since(t0)
	expect(got == total, "receiver got %d, want %d", got, total)
	return outcome{secs, total, nil}
}
