package main

// Savina workloads with many interacting actors: chameneos, big, skynet.

import "time"

// --- chameneos --------------------------------------------------------------

const numChameneos = 100

// complement: equal colours stay, different ones give the third (0, 1, 2).
func complement(a, b int32) int32 {
	if a == b {
		return a
	}
	return 3 - a - b
}

// mallMsg is a meet request (from != nil) or a faded chameneo's meetings.
type mallMsg struct {
	colour   int32
	from     chan chamMsg
	meetings int64
}

const (
	chamMeet = iota
	chamChange
	chamFade
)

type chamMsg struct {
	kind    int8
	colour  int32
	partner chan chamMsg
}

// Savina chameneos: the mall pairs two meet requests by forwarding the
// second one (with its mailbox) to the waiting chameneo, which changes
// colour and answers the second with `change`; both go back to the mall: 4
// messages per meeting. A chameneo has at most one request at the mall and
// one message in its own mailbox, so chameneos never block; only they block
// (briefly) on the mall's full mailbox, and the mall never blocks.
func benchChameneos(n int64) outcome {
	t0 := time.Now()
	mall := make(chan mallMsg, mailboxSlots)
	done := make(chan int64, 1)
	go func() {
		left := n
		var waiting chan chamMsg
		faded := 0
		var sum int64
		for m := range mall {
			switch {
			case m.from == nil:
				sum += m.meetings
				if faded++; faded == numChameneos {
					done <- sum
					return
				}
			case left == 0:
				m.from <- chamMsg{kind: chamFade}
			case waiting == nil:
				waiting = m.from
			default:
				left--
				waiting <- chamMsg{kind: chamMeet, colour: m.colour, partner: m.from}
				waiting = nil
			}
		}
	}()
	for i := 1; i <= numChameneos; i++ {
		go func(colour int32) {
			self := make(chan chamMsg, mailboxSlots)
			var meetings int64
			mall <- mallMsg{colour: colour, from: self}
			for m := range self {
				switch m.kind {
				case chamMeet:
					colour = complement(colour, m.colour)
					meetings++
					m.partner <- chamMsg{kind: chamChange, colour: colour}
					mall <- mallMsg{colour: colour, from: self}
				case chamChange:
					colour = m.colour
					meetings++
					mall <- mallMsg{colour: colour, from: self}
				case chamFade:
					mall <- mallMsg{meetings: meetings}
					return
				}
			}
		}(int32(i % 3))
	}
	sum := <-done
	secs := since(t0)
	expect(sum == 2*n, "sum of meetings %d, want %d", sum, 2*n)
	return outcome{secs, 4 * n, nil}
}

// --- big --------------------------------------------------------------------

const bigActors = 120

// bigMsg: a ping from actor `from`, a pong (from == -1), or a stop request.
type bigMsg struct {
	from int32
	stop chan<- int64
}

const bigPong = -1

// Savina big: each actor keeps one ping in flight to a random peer (never
// itself), n pings in all; every ping is answered with a pong. An actor has
// its ping or its pong in flight, never both, so at most 120 messages are
// queued in all: two full 64-slot mailboxes would need 128, so a cycle of
// senders blocked on full mailboxes cannot form.
func benchBig(n int64) outcome {
	t0 := time.Now()
	peers := make([]chan bigMsg, bigActors)
	for i := range peers {
		peers[i] = make(chan bigMsg, mailboxSlots)
	}
	finished := make(chan struct{}, bigActors)
	for i := range peers {
		go func(id int32) {
			self := peers[id]
			// xorshift64*, a cheap per-actor generator.
			rng := (uint64(id) + 1) * 0x9E3779B97F4A7C15
			var sent, answered int64
			pingRandomPeer := func() {
				rng ^= rng >> 12
				rng ^= rng << 25
				rng ^= rng >> 27
				r := int32((uint64(uint32((rng*0x2545F4914F6CDD1D)>>32)) * (bigActors - 1)) >> 32)
				if r >= id {
					r++
				}
				sent++
				peers[r] <- bigMsg{from: id}
			}
			pingRandomPeer()
			for m := range self {
				switch {
				case m.stop != nil:
					m.stop <- answered
					return
				case m.from == bigPong:
					if sent == n {
						finished <- struct{}{}
					} else {
						pingRandomPeer()
					}
				default:
					answered++
					peers[m.from] <- bigMsg{from: bigPong}
				}
			}
		}(int32(i))
	}
	for i := 0; i < bigActors; i++ {
		<-finished
	}
	secs := since(t0)
	var answered int64
	reply := make(chan int64, 1)
	for _, p := range peers {
		p <- bigMsg{stop: reply}
		answered += <-reply
	}
	expect(answered == bigActors*n, "%d pings answered, want %d", answered, bigActors*n)
	return outcome{secs, 2 * bigActors * n, nil}
}

// --- skynet -----------------------------------------------------------------

// A goroutine per node of a 10-ary tree; an inner node's mailbox receives its
// ten children's sums (leaves receive nothing, so they get no mailbox).
func skynet(parent chan<- int64, num, size int64) {
	if size == 1 {
		parent <- num
		return
	}
	sub := size / 10
	self := make(chan int64, mailboxSlots)
	for i := int64(0); i < 10; i++ {
		go skynet(self, num+i*sub, sub)
	}
	var sum int64
	for i := 0; i < 10; i++ {
		sum += <-self
	}
	parent <- sum
}

func isPow10(n int64) bool {
	for n > 1 && n%10 == 0 {
		n /= 10
	}
	return n == 1
}

func benchSkynet(n int64) outcome {
	expect(isPow10(n), "skynet n must be a power of 10")
	t0 := time.Now()
	root := make(chan int64, 1)
	go skynet(root, 0, n)
	sum := <-root
	secs := since(t0)
	want := n * (n - 1) / 2
	expect(sum == want, "sum %d, want %d", sum, want)
	return outcome{secs, (10*n - 1) / 9, nil}
}
