package main

// callrt: GenServer-style calls, one in flight.

import "time"

// callMsg is a call: the server answers on reply. stop asks for the final
// count and ends the server.
type callMsg struct {
	stop  bool
	reply chan<- int64
}

// counterServer answers each call with its incremented count.
func counterServer(self <-chan callMsg) {
	var count int64
	for m := range self {
		if m.stop {
			m.reply <- count
			return
		}
		count++
		m.reply <- count
	}
}

// The client goroutine makes n calls; each is a request carrying the
// client's reply channel (one per client, reused: one call is in flight).
func benchCallrt(n int64) outcome {
	t0 := time.Now()
	server := make(chan callMsg, mailboxSlots)
	go counterServer(server)
	done := make(chan int64, 1)
	go func() {
		reply := make(chan int64, 1)
		var last int64
		for i := int64(1); i <= n; i++ {
			server <- callMsg{reply: reply}
			last = <-reply
			expect(last == i, "reply %d, want %d", last, i)
		}
		done <- last
	}()
	last := <-done
	secs := since(t0)
	reply := make(chan int64, 1)
	server <- callMsg{stop: true, reply: reply}
	count := <-reply
	expect(last == n && count == n, "last reply %d, server count %d, want %d", last, count, n)
	return outcome{secs, n, nil}
}
