package main

// calllat: GenServer-style call latency under load. While 120 actors run
// the `big` workload without end in the background, a client goroutine
// makes n calls to a counter server (one in flight, a request carrying the
// client's reply channel) and times each round trip. Reports p50, p99,
// p99.9 and the maximum (extra.*_ns), the calls' rate as ops_per_sec, and
// the background's rate (extra.bg_ops_per_sec: pings + pongs over the
// background's lifetime) so that a run which starves the background shows.

import (
	"sort"
	"time"
)

var latencyBenches = []benchDef{
	{"calllat", 100000, benchCalllat},
}

const (
	latPing = iota
	latPong
	latStop  // stop pinging; report sent pings when the last pong is in
	latQuery // report answered pings and exit
)

type latMsg struct {
	kind  int8
	from  int32
	reply chan<- int64
}

// latBackground starts the endless big workload and returns its actors.
// Each actor has its ping or its pong in flight, never both, and the
// driver's control messages add at most one per actor, so (as in big) no
// cycle of senders blocked on full mailboxes can form.
func latBackground() []chan latMsg {
	peers := make([]chan latMsg, bigActors)
	for i := range peers {
		peers[i] = make(chan latMsg, mailboxSlots)
	}
	for i := range peers {
		go func(id int32) {
			self := peers[id]
			rng := (uint64(id) + 1) * 0x9E3779B97F4A7C15
			var sent, answered int64
			var stopped chan<- int64
			ping := func() {
				rng ^= rng >> 12
				rng ^= rng << 25
				rng ^= rng >> 27
				r := int32((uint64(uint32((rng*0x2545F4914F6CDD1D)>>32)) * (bigActors - 1)) >> 32)
				if r >= id {
					r++
				}
				sent++
				peers[r] <- latMsg{kind: latPing, from: id}
			}
			ping()
			for m := range self {
				switch m.kind {
				case latPing:
					answered++
					peers[m.from] <- latMsg{kind: latPong}
				case latPong:
					if stopped != nil {
						stopped <- sent
					} else {
						ping()
					}
				case latStop:
					stopped = m.reply
				case latQuery:
					m.reply <- answered
					return
				}
			}
		}(int32(i))
	}
	return peers
}

// percentile is the nearest-rank percentile (permille/1000) of sorted xs.
func percentile(sorted []int64, permille int64) int64 {
	n := int64(len(sorted))
	rank := (n*permille + 999) / 1000
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

func benchCalllat(n int64) outcome {
	bg0 := time.Now()
	peers := latBackground()
	server := make(chan callMsg, mailboxSlots)
	go counterServer(server)
	rtts := make([]int64, n)
	done := make(chan int64, 1)
	t0 := time.Now()
	go func() {
		reply := make(chan int64, 1)
		var last int64
		for i := int64(1); i <= n; i++ {
			t := time.Now()
			server <- callMsg{reply: reply}
			last = <-reply
			rtts[i-1] = int64(time.Since(t))
			expect(last == i, "reply %d, want %d", last, i)
		}
		done <- last
	}()
	last := <-done
	secs := since(t0)
	// Stop the background and check it: every ping sent was answered.
	sentCh := make(chan int64, bigActors)
	for _, p := range peers {
		p <- latMsg{kind: latStop, reply: sentCh}
	}
	var sent, answered int64
	for range peers {
		sent += <-sentCh
	}
	bgSecs := since(bg0)
	reply := make(chan int64, 1)
	for _, p := range peers {
		p <- latMsg{kind: latQuery, reply: reply}
		answered += <-reply
	}
	expect(sent == answered && sent > 0, "background sent %d pings, %d answered", sent, answered)
	reply = make(chan int64, 1)
	server <- callMsg{stop: true, reply: reply}
	count := <-reply
	expect(last == n && count == n, "last reply %d, server count %d, want %d", last, count, n)
	sort.Slice(rtts, func(i, j int) bool { return rtts[i] < rtts[j] })
	return outcome{secs, n, []kv{
		{"p50_ns", float64(percentile(rtts, 500))},
		{"p99_ns", float64(percentile(rtts, 990))},
		{"p999_ns", float64(percentile(rtts, 999))},
		{"max_ns", float64(rtts[n-1])},
		{"bg_ops", float64(2 * sent)},
		{"bg_ops_per_sec", float64(2*sent) / bgSecs},
	}}
}
