package main

// Spawning workloads: fjcreate and spawnmem.

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// --- fjcreate ---------------------------------------------------------------

// workMsg tells a fresh worker where to report.
type workMsg struct {
	sink chan<- int64
}

// The main goroutine starts n workers, each with its own mailbox, and sends
// each one a work message; a worker reports 1 to the sink and exits. The
// sink's mailbox holds 64 reports; workers block while it is full.
func benchFjcreate(n int64) outcome {
	t0 := time.Now()
	sink := make(chan int64, mailboxSlots)
	done := make(chan int64, 1)
	go func() {
		var count int64
		for one := range sink {
			count += one
			if count == n {
				done <- count
				return
			}
		}
	}()
	for i := int64(0); i < n; i++ {
		self := make(chan workMsg, mailboxSlots)
		go func() {
			m := <-self
			m.sink <- 1
		}()
		self <- workMsg{sink: sink}
	}
	got := <-done
	secs := since(t0)
	expect(got == n, "%d actors reported, want %d", got, n)
	return outcome{secs, n, nil}
}

// --- spawnmem ---------------------------------------------------------------

// rssBytes is the resident set size from /proc/self/statm.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		fail("reading /proc/self/statm: %v", err)
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		fail("unexpected /proc/self/statm: %q", b)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		fail("unexpected /proc/self/statm: %q", b)
	}
	return pages * int64(os.Getpagesize())
}

// stopMsg is the one message an idle actor understands; it carries nothing,
// so its mailbox's 64 slots take no memory.
type stopMsg struct{}

// n goroutines each blocked receiving from its own 64-slot mailbox.
// bytes_per_actor is the RSS delta / n (as for CAF); go_runtime_per_actor is
// the delta of the Go runtime's own accounting (heap + goroutine stacks in
// use) / n. A WaitGroup (measurement aid only) lets the driver wait until
// every goroutine has started before the second reading.
func benchSpawnmem(n int64) outcome {
	// Allocated and touched before the baseline, like CAF's handle vector.
	boxes := make([]chan stopMsg, n)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	inuse0 := ms.HeapInuse + ms.StackInuse
	rss0 := rssBytes()
	var started sync.WaitGroup
	started.Add(int(n))
	t0 := time.Now()
	for i := range boxes {
		self := make(chan stopMsg, mailboxSlots)
		boxes[i] = self
		go func() {
			started.Done()
			<-self
		}()
	}
	started.Wait()
	secs := since(t0)
	rss1 := rssBytes()
	runtime.ReadMemStats(&ms)
	inuse1 := ms.HeapInuse + ms.StackInuse
	alive := runtime.NumGoroutine() - 1 // minus main
	expect(int64(alive) >= n, "%d goroutines alive, want at least %d", alive, n)
	for _, b := range boxes {
		b <- stopMsg{}
	}
	return outcome{secs, n, []kv{
		{"bytes_per_actor", float64(rss1-rss0) / float64(n)},
		{"go_runtime_per_actor", float64(inuse1-inuse0) / float64(n)},
		{"rss_before", float64(rss0)},
		{"rss_after", float64(rss1)},
	}}
}
