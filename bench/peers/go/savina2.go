package main

// Savina workloads added with issue 20: bndbuffer, philosopher, barber,
// banking, trapezoid, fib. Same work, ops and checks as fauxtp's
// bench/savina2_benches.c and bench/savina3_benches.c. Mailboxes are
// 64-slot channels as elsewhere; each workload says why no cycle of
// senders blocked on full mailboxes can form.

import (
	"math"
	"time"
)

// --- bndbuffer ----------------------------------------------------------------

const (
	bbProducers = 40
	bbConsumers = 40
	bbSize      = 50
	bbAdjusted  = bbSize - bbProducers
)

type bbMsg struct {
	kind int8 // bbData, bbAvailable
	item int64
	from chan int64 // producer's or consumer's mailbox
}

const (
	bbData = iota
	bbAvailable
)

// Producers and consumers have at most one message each at the manager and
// the manager at most one in each of their mailboxes: 80 < 2*64, and only
// the manager's mailbox can fill, whose owner never blocks on it.
func benchBndbuffer(n int64) outcome {
	t0 := time.Now()
	mgr := make(chan bbMsg, mailboxSlots)
	const stop = -1
	sums := make(chan int64, bbConsumers)
	go func() {
		var buf []int64
		var idle, waiting []chan int64
		var delivered int64
		stopped := 0
		stopC := func(c chan int64) { c <- stop; stopped++ }
		for m := range mgr {
			if m.kind == bbData {
				if len(idle) > 0 {
					c := idle[len(idle)-1]
					idle = idle[:len(idle)-1]
					c <- m.item
					delivered++
				} else if len(buf) < bbSize {
					buf = append(buf, m.item)
				} else {
					fail("item from a producer told to wait")
				}
				if len(buf) < bbAdjusted {
					m.from <- 0
				} else {
					waiting = append(waiting, m.from)
				}
			} else if delivered == n {
				stopC(m.from)
			} else if len(buf) == 0 {
				idle = append(idle, m.from)
			} else {
				m.from <- buf[0]
				buf = buf[1:]
				delivered++
				if len(waiting) > 0 {
					waiting[len(waiting)-1] <- 0
					waiting = waiting[:len(waiting)-1]
				}
			}
			if delivered == n {
				for _, c := range idle {
					stopC(c)
				}
				idle = nil
			}
			if stopped == bbConsumers {
				return
			}
		}
	}()
	for i := 0; i < bbConsumers; i++ {
		go func() {
			self := make(chan int64, mailboxSlots)
			var sum int64
			mgr <- bbMsg{kind: bbAvailable, from: self}
			for v := range self {
				if v == stop {
					sums <- sum
					return
				}
				sum += v
				mgr <- bbMsg{kind: bbAvailable, from: self}
			}
		}()
	}
	for p := int64(0); p < bbProducers; p++ {
		go func(next int64) {
			self := make(chan int64, mailboxSlots)
			for {
				if next >= n {
					return
				}
				mgr <- bbMsg{kind: bbData, item: next, from: self}
				next += bbProducers
				<-self
			}
		}(p)
	}
	var sum int64
	for i := 0; i < bbConsumers; i++ {
		sum += <-sums
	}
	secs := since(t0)
	expect(sum == n*(n-1)/2, "items sum to %d, want %d", sum, n*(n-1)/2)
	return outcome{secs, 4 * n, nil}
}

// --- philosopher --------------------------------------------------------------

const philosophers = 20

type philMsg struct {
	kind int8 // philHungry, philAte, philExit
	id   int
	from chan bool // true: eat, false: denied
}

const (
	philHungry = iota
	philAte
	philExit
)

// Each philosopher has at most one message in each direction in flight.
func benchPhilosopher(n int64) outcome {
	t0 := time.Now()
	arb := make(chan philMsg, mailboxSlots)
	type result struct{ meals, denied int64 }
	done := make(chan result, 1)
	go func() {
		var fork [philosophers]bool
		var meals, denied int64
		left := philosophers
		for m := range arb {
			id, right := m.id, (m.id+1)%philosophers
			switch m.kind {
			case philHungry:
				if fork[id] || fork[right] {
					denied++
					m.from <- false
				} else {
					fork[id], fork[right] = true, true
					m.from <- true
				}
			case philAte:
				expect(fork[id] && fork[right], "philosopher %d gave back forks it did not hold", id)
				fork[id], fork[right] = false, false
				meals++
			case philExit:
				if left--; left == 0 {
					done <- result{meals, denied}
					return
				}
			}
		}
	}()
	for i := 0; i < philosophers; i++ {
		go func(id int) {
			self := make(chan bool, mailboxSlots)
			var meals int64
			arb <- philMsg{kind: philHungry, id: id, from: self}
			for eat := range self {
				if !eat {
					arb <- philMsg{kind: philHungry, id: id, from: self}
					continue
				}
				meals++
				arb <- philMsg{kind: philAte, id: id}
				if meals < n {
					arb <- philMsg{kind: philHungry, id: id, from: self}
					continue
				}
				arb <- philMsg{kind: philExit, id: id}
				return
			}
		}(i)
	}
	r := <-done
	secs := since(t0)
	expect(r.meals == philosophers*n, "%d meals, want %d", r.meals, philosophers*n)
	return outcome{secs, philosophers * n, []kv{{"denied", float64(r.denied)}}}
}

// --- barber -------------------------------------------------------------------

const (
	roomChairs = 100
	shopLimit  = 150
)

type custMsg int8

const (
	custFull custMsg = iota
	custStart
	custCut
)

type customerT struct {
	id   int64
	self chan custMsg
}

type factoryMsg struct {
	returned *customerT // nil: a customer left with id
	id       int64
}

// At most 150 customers are in the shop, so the room's and the factory's
// mailboxes hold at most 150 messages... which could exceed 64: the room
// and the factory are given mailboxes of shopLimit slots (a bounded
// population, not a tuning), and the barber's holds at most one.
func benchBarber(n int64) outcome {
	t0 := time.Now()
	room := make(chan *customerT, shopLimit)
	next := make(chan struct{}, 1)
	barber := make(chan *customerT, 1)
	factory := make(chan factoryMsg, shopLimit)
	cuts := make(chan int64, 1)
	quit := make(chan struct{})
	go func() { // the waiting room
		var chairs []*customerT
		asleep := true
		for {
			select {
			case c := <-room:
				if asleep {
					asleep = false
					barber <- c
				} else if len(chairs) == roomChairs {
					c.self <- custFull
				} else {
					chairs = append(chairs, c)
				}
			case <-next:
				if len(chairs) == 0 {
					asleep = true
				} else {
					barber <- chairs[0]
					chairs = chairs[1:]
				}
			case <-quit:
				return
			}
		}
	}()
	go func() { // the barber
		var count int64
		for {
			select {
			case c := <-barber:
				c.self <- custStart
				count++
				c.self <- custCut
				next <- struct{}{}
			case <-quit:
				cuts <- count
				return
			}
		}
	}()
	customer := func(c *customerT) {
		for m := range c.self {
			switch m {
			case custFull:
				factory <- factoryMsg{returned: c}
			case custCut:
				factory <- factoryMsg{id: c.id}
				return
			}
		}
	}
	var made, left, idsum, returned int64
	var back []*customerT
	sendNew := func() {
		c := &customerT{id: made, self: make(chan custMsg, mailboxSlots)}
		made++
		go customer(c)
		room <- c
	}
	for made < n && made < shopLimit {
		sendNew()
	}
	for left < n {
		m := <-factory
		if m.returned != nil {
			returned++
			back = append(back, m.returned)
			continue
		}
		idsum += m.id
		left++
		if left == n {
			break
		}
		if len(back) > 0 {
			room <- back[0]
			back = back[1:]
		} else if made < n {
			sendNew()
		}
	}
	close(quit)
	secs := since(t0)
	count := <-cuts
	expect(count == n && idsum == n*(n-1)/2, "%d haircuts, ids sum to %d", count, idsum)
	return outcome{secs, n, []kv{{"returned", float64(returned)}}}
}

// --- banking ------------------------------------------------------------------

const (
	accounts   = 1000
	bankWindow = 60
	bankStart  = 1000000
)

type bankMsg struct {
	kind   int8 // bankTransfer, bankCredit, bankCredited, bankGet
	dst    int
	amount int64
	from   chan bankMsg
}

const (
	bankTransfer = iota
	bankCredit
	bankCredited
	bankGet
)

func xorshift(s *uint64) uint64 {
	*s ^= *s >> 12
	*s ^= *s << 25
	*s ^= *s >> 27
	return *s * 0x2545F4914F6CDD1D
}

func draw(rng *uint64) (int, int, int64) {
	src := int(xorshift(rng) % accounts)
	dst := int((uint64(src) + 1 + xorshift(rng)%(accounts-1)) % accounts)
	return src, dst, int64(1 + xorshift(rng)%1000)
}

// At most 60 transfers are in flight, each with one message at a time, so
// no mailbox ever holds more than 60 messages (< 64 slots).
func benchBanking(n int64) outcome {
	t0 := time.Now()
	acct := make([]chan bankMsg, accounts)
	for i := range acct {
		acct[i] = make(chan bankMsg, mailboxSlots)
	}
	teller := make(chan bankMsg, mailboxSlots)
	for i := range acct {
		go func(self chan bankMsg) {
			balance := int64(bankStart)
			busy := false
			var deferred []bankMsg
			start := func(t bankMsg) {
				balance -= t.amount
				busy = true
				acct[t.dst] <- bankMsg{kind: bankCredit, amount: t.amount, from: self}
			}
			for m := range self {
				switch m.kind {
				case bankTransfer:
					if busy {
						deferred = append(deferred, m)
					} else {
						start(m)
					}
				case bankCredit:
					balance += m.amount
					m.from <- bankMsg{kind: bankCredited}
				case bankCredited:
					busy = false
					teller <- bankMsg{kind: bankCredited}
					if len(deferred) > 0 {
						t := deferred[0]
						deferred = deferred[1:]
						start(t)
					}
				case bankGet:
					m.from <- bankMsg{amount: balance}
					return
				}
			}
		}(acct[i])
	}
	rng := uint64(0x9E3779B97F4A7C15)
	var sent, done int64
	send := func() {
		src, dst, amount := draw(&rng)
		sent++
		acct[src] <- bankMsg{kind: bankTransfer, dst: dst, amount: amount}
	}
	for sent < n && sent < bankWindow {
		send()
	}
	for done < n {
		<-teller
		done++
		if sent < n {
			send()
		}
	}
	secs := since(t0)
	var delta [accounts]int64
	rng = 0x9E3779B97F4A7C15
	for i := int64(0); i < n; i++ {
		src, dst, amount := draw(&rng)
		delta[src] -= amount
		delta[dst] += amount
	}
	reply := make(chan bankMsg, 1)
	bad := 0
	for i := range acct {
		acct[i] <- bankMsg{kind: bankGet, from: reply}
		if (<-reply).amount != bankStart+delta[i] {
			bad++
		}
	}
	expect(bad == 0, "%d of %d balances wrong", bad, accounts)
	return outcome{secs, 4 * n, nil}
}

// --- trapezoid ----------------------------------------------------------------

const trapWorkers = 100

func trapF(x float64) float64 {
	a := math.Sin(math.Pow(x, 3) - 1)
	b := x + 1
	c := a / b
	d := math.Sqrt(1 + math.Exp(math.Sqrt(2*x)))
	return c * d
}

func trapArea(from, to, n int64) float64 {
	h := (5.0 - 1.0) / float64(n)
	area := 0.0
	for i := from; i < to; i++ {
		x := 1.0 + float64(i)*h
		area += h * (trapF(x) + trapF(x+h)) / 2
	}
	return area
}

func benchTrapezoid(n int64) outcome {
	t0 := time.Now()
	results := make(chan float64, mailboxSlots)
	go func() { // the master
		parts := make(chan float64, trapWorkers)
		for w := int64(0); w < trapWorkers; w++ {
			go func(from, to int64) { parts <- trapArea(from, to, n) }(n*w/trapWorkers, n*(w+1)/trapWorkers)
		}
		total := 0.0
		for w := 0; w < trapWorkers; w++ {
			total += <-parts
		}
		results <- total
	}()
	area := <-results
	secs := since(t0)
	want := trapArea(0, n, n)
	expect(math.Abs(area-want) <= 1e-9*math.Abs(want), "area %.15g, sequentially %.15g", area, want)
	return outcome{secs, n, nil}
}

// --- fib ----------------------------------------------------------------------

func fibActor(parent chan<- int64, k int64) {
	if k <= 2 {
		parent <- 1
		return
	}
	self := make(chan int64, 2)
	go fibActor(self, k-1)
	go fibActor(self, k-2)
	parent <- <-self + <-self
}

func benchFib(n int64) outcome {
	expect(n >= 1 && n <= 60, "fib --n is the index, 1..60")
	a, b := int64(1), int64(1)
	for i := int64(2); i < n; i++ {
		a, b = b, a+b
	}
	want := b
	t0 := time.Now()
	root := make(chan int64, 1)
	go fibActor(root, n)
	got := <-root
	secs := since(t0)
	expect(got == want, "fib(%d) = %d, want %d", n, got, want)
	return outcome{secs, 2*want - 1, nil}
}
