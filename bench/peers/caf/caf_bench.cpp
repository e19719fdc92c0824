// caf_bench -- the fauxtp benchmark workloads written for CAF 0.17.
//
//   caf-bench NAME [--n N] [--threads T] [--json]      caf-bench --list
//
// The actor system is built once (scheduler.max-threads = T, CAF's default
// work-stealing policy and throughput), then one workload runs; only the
// work is timed.  All work runs in event-based actors on the T scheduler
// threads; the main thread is a scoped_actor that starts the workload and
// blocks for the final result.  Every workload verifies its result and a
// wrong one exits non-zero with a message on stderr.
//
// Idioms: function-based actors returning a `behavior`, per-actor state in
// stateful_actor<State>, atom_constant tags, replies by returning a value
// from the handler, request(...).then for call/response.

#include <caf/all.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

using namespace caf;

// ping_atom, pong_atom, get_atom and add_atom come with CAF.
using inc_atom = atom_constant<atom("inc")>;
using next_atom = atom_constant<atom("next")>;
using token_atom = atom_constant<atom("token")>;
using done_atom = atom_constant<atom("done")>;
using stop_atom = atom_constant<atom("stop")>;
using work_atom = atom_constant<atom("work")>;
using meet_atom = atom_constant<atom("meet")>;
using change_atom = atom_constant<atom("change")>;
using fade_atom = atom_constant<atom("fade")>;
using meetings_atom = atom_constant<atom("meetings")>;
using peers_atom = atom_constant<atom("peers")>;
using msg_atom = atom_constant<atom("msg")>;

namespace {

constexpr int ring_size = 100;
constexpr int fjt_actors = 60;
constexpr int num_chameneos = 100;
constexpr int big_actors = 120;
constexpr int mailbox_senders = 100;
constexpr int overload_senders = 8;
constexpr int64_t overload_work_ns = 2500;

const char* g_bench = "?";

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "caf-bench: %s: verification failed: %s\n", g_bench,
               what.c_str());
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(1); // may be called from a scheduler thread: no unwinding
}

void expect(bool ok, const std::string& what) {
  if (!ok)
    fail(what);
}

std::string str(int64_t x) {
  return std::to_string(x);
}

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

struct outcome {
  double seconds;
  int64_t ops;
  std::vector<std::pair<std::string, double>> extra;
};

// Blocks the scoped actor for a (done, int64) message and returns its value.
int64_t await_done(scoped_actor& self) {
  int64_t result = -1;
  self->receive([&](done_atom, int64_t x) { result = x; });
  return result;
}

// Synchronous request from the driver (used after timing, for verification).
int64_t ask_stop(scoped_actor& self, const actor& whom) {
  int64_t result = -1;
  self->request(whom, infinite, stop_atom::value)
    .receive([&](int64_t x) { result = x; },
             [&](error& err) { fail("stop request: " + to_string(err)); });
  return result;
}

// --- pingpong ---------------------------------------------------------------

struct pong_state {
  int64_t pings = 0;
};

behavior pong_actor(stateful_actor<pong_state>* self) {
  return {
    // The value a handler returns is sent back to the sender.
    [=](ping_atom) {
      ++self->state.pings;
      return pong_atom::value;
    },
    [=](stop_atom) {
      self->quit();
      return self->state.pings;
    },
  };
}

struct ping_state {
  int64_t left = 0;
};

behavior ping_actor(stateful_actor<ping_state>* self, actor pong, int64_t n,
                    actor driver) {
  self->state.left = n;
  self->send(pong, ping_atom::value);
  return {
    [=](pong_atom) {
      if (--self->state.left == 0) {
        self->send(driver, done_atom::value, n);
        self->quit();
      } else {
        self->send(pong, ping_atom::value);
      }
    },
  };
}

outcome bench_pingpong(actor_system& sys, int64_t n) {
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  auto pong = sys.spawn(pong_actor);
  sys.spawn(ping_actor, pong, n, actor{self});
  await_done(self);
  double secs = seconds_since(t0);
  auto pings = ask_stop(self, pong);
  expect(pings == n, "pong saw " + str(pings) + " pings, want " + str(n));
  return {secs, 2 * n, {}};
}

// --- counting ---------------------------------------------------------------

struct counter_state {
  int64_t count = 0;
};

behavior counter_actor(stateful_actor<counter_state>* self) {
  return {
    [=](inc_atom) { ++self->state.count; },
    [=](get_atom) {
      self->quit();
      return self->state.count;
    },
  };
}

// A void function-based actor has no behavior of its own; it stays alive
// until its pending request is answered.
void producer_actor(event_based_actor* self, actor counter, int64_t n,
                    actor driver) {
  for (int64_t i = 0; i < n; ++i)
    self->send(counter, inc_atom::value);
  self->request(counter, infinite, get_atom::value)
    .then([=](int64_t total) { self->send(driver, done_atom::value, total); },
          [=](error& err) { fail("get: " + to_string(err)); });
}

outcome bench_counting(actor_system& sys, int64_t n) {
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  auto counter = sys.spawn(counter_actor);
  sys.spawn(producer_actor, counter, n, actor{self});
  auto total = await_done(self);
  double secs = seconds_since(t0);
  expect(total == n, "counter total " + str(total) + ", want " + str(n));
  return {secs, n, {}};
}

// --- threadring -------------------------------------------------------------

struct ring_state {
  actor next;
  int64_t forwarded = 0;
};

// The token carries the number of hops still to go; the node that receives
// 0 tells the driver.
behavior ring_node(stateful_actor<ring_state>* self, actor driver) {
  return {
    [=](next_atom, actor next) { self->state.next = std::move(next); },
    [=](token_atom, int64_t left) {
      if (left == 0) {
        self->send(driver, done_atom::value, int64_t{0});
        return;
      }
      ++self->state.forwarded;
      self->send(self->state.next, token_atom::value, left - 1);
    },
    [=](stop_atom) {
      self->state.next = actor{}; // break the reference cycle of the ring
      self->quit();
      return self->state.forwarded;
    },
  };
}

outcome bench_threadring(actor_system& sys, int64_t n) {
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  std::vector<actor> nodes;
  for (int i = 0; i < ring_size; ++i)
    nodes.push_back(sys.spawn(ring_node, actor{self}));
  for (int i = 0; i < ring_size; ++i)
    self->send(nodes[i], next_atom::value, nodes[(i + 1) % ring_size]);
  self->send(nodes[0], token_atom::value, n);
  await_done(self);
  double secs = seconds_since(t0);
  int64_t hops = 0;
  for (auto& node : nodes)
    hops += ask_stop(self, node);
  expect(hops == n, str(hops) + " hops, want " + str(n));
  return {secs, n, {}};
}

// --- fjthrput ---------------------------------------------------------------

struct fjt_state {
  int64_t count = 0;
  int done = 0;
  int64_t total = 0;
};

behavior fjt_worker(stateful_actor<fjt_state>* self, int64_t n, actor sink) {
  return {
    [=](work_atom) {
      if (++self->state.count == n) {
        self->send(sink, done_atom::value, n);
        self->quit();
      }
    },
  };
}

// Savina's fork-join throughput: the driver sends n messages to each worker,
// round-robin, then collects one report per worker.
behavior fjt_driver(stateful_actor<fjt_state>* self, int64_t n, actor driver) {
  std::vector<actor> workers;
  for (int i = 0; i < fjt_actors; ++i)
    workers.push_back(self->spawn(fjt_worker, n, actor_cast<actor>(self)));
  for (int64_t k = 0; k < n; ++k)
    for (auto& w : workers)
      self->send(w, work_atom::value);
  return {
    [=](done_atom, int64_t counted) {
      self->state.total += counted;
      if (++self->state.done == fjt_actors) {
        self->send(driver, done_atom::value, self->state.total);
        self->quit();
      }
    },
  };
}

outcome bench_fjthrput(actor_system& sys, int64_t n) {
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  sys.spawn(fjt_driver, n, actor{self});
  auto total = await_done(self);
  double secs = seconds_since(t0);
  expect(total == fjt_actors * n, "workers counted " + str(total) + ", want "
                                    + str(fjt_actors * n));
  return {secs, fjt_actors * n, {}};
}

// --- fjcreate ---------------------------------------------------------------

behavior fjc_worker(event_based_actor* self) {
  return {
    [=](work_atom, const actor& sink) {
      self->send(sink, done_atom::value, int64_t{1});
      self->quit();
    },
  };
}

struct fjc_state {
  int64_t done = 0;
};

behavior fjc_sink(stateful_actor<fjc_state>* self, int64_t n, actor driver) {
  return {
    [=](done_atom, int64_t one) {
      self->state.done += one;
      if (self->state.done == n) {
        self->send(driver, done_atom::value, self->state.done);
        self->quit();
      }
    },
  };
}

// The main thread spawns the workers, as CAF's own Savina ports do: spawning
// from outside the scheduler spreads new actors round-robin over the
// workers.  (Spawning 100k actors from one actor's handler would pile them
// into that worker's deque, and CAF 0.17's steal (take_tail) walks the deque,
// which made the benchmark quadratic.)
outcome bench_fjcreate(actor_system& sys, int64_t n) {
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  auto sink = sys.spawn(fjc_sink, n, actor{self});
  for (int64_t i = 0; i < n; ++i)
    anon_send(sys.spawn(fjc_worker), work_atom::value, sink);
  auto done = await_done(self);
  double secs = seconds_since(t0);
  expect(done == n, str(done) + " actors reported, want " + str(n));
  return {secs, n, {}};
}

// --- chameneos --------------------------------------------------------------

// Colours 0, 1, 2: equal colours stay, different ones give the third.
int32_t complement(int32_t a, int32_t b) {
  return a == b ? a : 3 - a - b;
}

struct mall_state {
  int64_t left = 0;
  actor waiting;
  int faded = 0;
  int64_t sum = 0;
};

// Savina chameneos: the mall pairs two meet requests by forwarding the
// second chameneo's meet (with its handle) to the waiting one, which changes
// colour and answers the second directly with `change`; both then go back
// to the mall: 4 messages per meeting.
behavior mall_actor(stateful_actor<mall_state>* self, int64_t n, actor driver) {
  self->state.left = n;
  return {
    [=](meet_atom, int32_t colour) {
      auto& st = self->state;
      auto from = actor_cast<actor>(self->current_sender());
      if (st.left == 0) {
        self->send(from, fade_atom::value);
      } else if (!st.waiting) {
        st.waiting = std::move(from);
      } else {
        --st.left;
        self->send(st.waiting, meet_atom::value, colour, from);
        st.waiting = actor{};
      }
    },
    [=](meetings_atom, int64_t meetings) {
      auto& st = self->state;
      st.sum += meetings;
      if (++st.faded == num_chameneos) {
        self->send(driver, done_atom::value, st.sum);
        self->quit();
      }
    },
  };
}

struct chameneo_state {
  int32_t colour = 0;
  int64_t meetings = 0;
};

behavior chameneo_actor(stateful_actor<chameneo_state>* self, actor mall,
                        int32_t colour) {
  self->state.colour = colour;
  self->send(mall, meet_atom::value, colour);
  return {
    [=](meet_atom, int32_t other, const actor& partner) {
      auto& st = self->state;
      st.colour = complement(st.colour, other);
      ++st.meetings;
      self->send(partner, change_atom::value, st.colour);
      self->send(mall, meet_atom::value, st.colour);
    },
    [=](change_atom, int32_t c) {
      self->state.colour = c;
      ++self->state.meetings;
      self->send(mall, meet_atom::value, c);
    },
    [=](fade_atom) {
      self->send(mall, meetings_atom::value, self->state.meetings);
      self->quit();
    },
  };
}

outcome bench_chameneos(actor_system& sys, int64_t n) {
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  auto mall = sys.spawn(mall_actor, n, actor{self});
  for (int i = 1; i <= num_chameneos; ++i)
    sys.spawn(chameneo_actor, mall, int32_t{i % 3});
  auto sum = await_done(self);
  double secs = seconds_since(t0);
  expect(sum == 2 * n, "sum of meetings " + str(sum) + ", want " + str(2 * n));
  return {secs, 4 * n, {}};
}

// --- big --------------------------------------------------------------------

struct big_state {
  std::vector<actor> peers;
  int64_t sent = 0;
  int64_t answered = 0;
  uint64_t rng = 0;

  // xorshift64*: a cheap per-actor generator.
  uint32_t next_random() {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return static_cast<uint32_t>((rng * 0x2545F4914F6CDD1DULL) >> 32);
  }
};

// Savina big: one ping in flight at a time to a random peer (never self),
// n pings in all; every ping is answered with a pong.
behavior big_actor(stateful_actor<big_state>* self, int id, int64_t n,
                   actor driver) {
  self->state.rng = (static_cast<uint64_t>(id) + 1) * 0x9E3779B97F4A7C15ULL;
  auto ping_random_peer = [self, id] {
    auto& st = self->state;
    auto r = static_cast<int>(
      (static_cast<uint64_t>(st.next_random()) * (big_actors - 1)) >> 32);
    if (r >= id)
      ++r;
    ++st.sent;
    self->send(st.peers[r], ping_atom::value);
  };
  return {
    [=](peers_atom, std::vector<actor>& peers) {
      self->state.peers = std::move(peers);
      ping_random_peer();
    },
    [=](ping_atom) {
      ++self->state.answered;
      return pong_atom::value;
    },
    [=](pong_atom) {
      if (self->state.sent == n)
        self->send(driver, done_atom::value, int64_t{1});
      else
        ping_random_peer();
    },
    [=](stop_atom) {
      self->state.peers.clear(); // break the reference cycles
      self->quit();
      return self->state.answered;
    },
  };
}

outcome bench_big(actor_system& sys, int64_t n) {
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  std::vector<actor> peers;
  for (int i = 0; i < big_actors; ++i)
    peers.push_back(sys.spawn(big_actor, i, n, actor{self}));
  for (auto& p : peers)
    self->send(p, peers_atom::value, peers);
  int64_t done = 0;
  for (int i = 0; i < big_actors; ++i)
    done += await_done(self);
  double secs = seconds_since(t0);
  int64_t answered = 0;
  for (auto& p : peers)
    answered += ask_stop(self, p);
  expect(done == big_actors, "not all actors finished");
  expect(answered == big_actors * n, str(answered) + " pings answered, want "
                                       + str(big_actors * n));
  return {secs, 2 * big_actors * n, {}};
}

// --- skynet -----------------------------------------------------------------

struct skynet_state {
  int64_t sum = 0;
  int pending = 10;
};

behavior skynet_actor(stateful_actor<skynet_state>* self, actor parent,
                      int64_t num, int64_t size) {
  if (size == 1) {
    self->send(parent, num);
    return {}; // no behavior: the leaf terminates
  }
  auto sub = size / 10;
  auto me = actor_cast<actor>(self);
  for (int64_t i = 0; i < 10; ++i)
    self->spawn(skynet_actor, me, num + i * sub, sub);
  return {
    [=](int64_t v) {
      auto& st = self->state;
      st.sum += v;
      if (--st.pending == 0) {
        self->send(parent, st.sum);
        self->quit();
      }
    },
  };
}

bool is_pow10(int64_t n) {
  while (n > 1 && n % 10 == 0)
    n /= 10;
  return n == 1;
}

outcome bench_skynet(actor_system& sys, int64_t n) {
  expect(is_pow10(n), "skynet n must be a power of 10");
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  sys.spawn(skynet_actor, actor{self}, int64_t{0}, n);
  int64_t sum = -1;
  self->receive([&](int64_t x) { sum = x; });
  double secs = seconds_since(t0);
  int64_t want = n * (n - 1) / 2;
  expect(sum == want, "sum " + str(sum) + ", want " + str(want));
  return {secs, (10 * n - 1) / 9, {}};
}

// --- mailbox ----------------------------------------------------------------

struct mailbox_state {
  int64_t count = 0;
};

behavior mailbox_receiver(stateful_actor<mailbox_state>* self, int64_t total,
                          actor driver) {
  return {
    [=](msg_atom) {
      if (++self->state.count == total) {
        self->send(driver, done_atom::value, total);
        self->quit();
      }
    },
  };
}

void mailbox_sender(event_based_actor* self, actor receiver, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    self->send(receiver, msg_atom::value);
}

outcome bench_mailbox(actor_system& sys, int64_t n) {
  scoped_actor self{sys};
  int64_t total = mailbox_senders * n;
  auto t0 = clock_type::now();
  auto receiver = sys.spawn(mailbox_receiver, total, actor{self});
  for (int i = 0; i < mailbox_senders; ++i)
    sys.spawn(mailbox_sender, receiver, n);
  auto got = await_done(self);
  double secs = seconds_since(t0);
  expect(got == total, "receiver got " + str(got) + ", want " + str(total));
  return {secs, total, {}};
}

// --- overload ---------------------------------------------------------------
// 8 senders send n messages each, as fast as they can, to one receiver that
// busy-waits overload_work_ns on the clock per message (the same work as
// fauxtp's and Erlang's); verified by count and checksum. Peak RSS is
// measured from outside (tools/lib/peak_rss.py).

struct overload_state {
  int64_t count = 0;
  int64_t sum = 0;
};

behavior overload_receiver(stateful_actor<overload_state>* self, int64_t total,
                           actor driver) {
  return {
    [=](work_atom, int64_t v) {
      auto until = std::chrono::steady_clock::now()
                   + std::chrono::nanoseconds(overload_work_ns);
      while (std::chrono::steady_clock::now() < until) {
      }
      self->state.sum += v;
      if (++self->state.count == total) {
        self->send(driver, done_atom::value, self->state.sum);
        self->quit();
      }
    },
  };
}

void overload_sender(event_based_actor* self, actor receiver, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    self->send(receiver, work_atom::value, i);
}

outcome bench_overload(actor_system& sys, int64_t n) {
  scoped_actor self{sys};
  int64_t total = overload_senders * n;
  auto t0 = clock_type::now();
  auto receiver = sys.spawn(overload_receiver, total, actor{self});
  for (int i = 0; i < overload_senders; ++i)
    sys.spawn(overload_sender, receiver, n);
  auto sum = await_done(self);
  double secs = seconds_since(t0);
  int64_t want = overload_senders * (n * (n - 1) / 2);
  expect(sum == want, "checksum " + str(sum) + ", want " + str(want));
  return {secs, total, {}};
}

// --- spawnmem ---------------------------------------------------------------

// Measurement aid only: lets the driver wait until every idle actor has run
// its initialisation (so its behavior is allocated) before reading RSS.
std::atomic<int64_t> g_idle_started{0};

behavior idle_actor(event_based_actor* self) {
  g_idle_started.fetch_add(1, std::memory_order_relaxed);
  return {
    [=](stop_atom) { self->quit(); },
  };
}

int64_t rss_bytes() {
  std::ifstream statm{"/proc/self/statm"};
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

outcome bench_spawnmem(actor_system& sys, int64_t n) {
  scoped_actor self{sys};
  // Value-initialised, so its pages are resident before the baseline.
  std::vector<actor> idle(static_cast<size_t>(n));
  auto rss0 = rss_bytes();
  auto t0 = clock_type::now();
  // Spawned from the main thread, as in fjcreate (see there).
  for (auto& slot : idle)
    slot = sys.spawn(idle_actor);
  while (g_idle_started.load(std::memory_order_relaxed) < n)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  double secs = seconds_since(t0);
  auto rss1 = rss_bytes();
  expect(g_idle_started.load() == n,
         str(g_idle_started.load()) + " actors started, want " + str(n));
  for (auto& a : idle)
    anon_send(a, stop_atom::value);
  idle.clear();
  return {secs,
          n,
          {{"bytes_per_actor", static_cast<double>(rss1 - rss0) / n},
           {"rss_before", static_cast<double>(rss0)},
           {"rss_after", static_cast<double>(rss1)}}};
}

// --- callrt -----------------------------------------------------------------

struct server_state {
  int64_t count = 0;
};

behavior callrt_server(stateful_actor<server_state>* self) {
  return {
    [=](add_atom) { return ++self->state.count; },
    [=](stop_atom) {
      self->quit();
      return self->state.count;
    },
  };
}

struct client_state {
  actor server;
  actor driver;
  int64_t n = 0;
};

// One call at a time: the next request is issued from the response handler
// of the previous one.
void callrt_next(stateful_actor<client_state>* self, int64_t i) {
  self->request(self->state.server, infinite, add_atom::value)
    .then(
      [=](int64_t reply) {
        expect(reply == i, "reply " + str(reply) + ", want " + str(i));
        if (i == self->state.n)
          self->send(self->state.driver, done_atom::value, reply);
        else
          callrt_next(self, i + 1);
      },
      [=](error& err) { fail("call: " + to_string(err)); });
}

void callrt_client(stateful_actor<client_state>* self, actor server, int64_t n,
                   actor driver) {
  self->state.server = std::move(server);
  self->state.driver = std::move(driver);
  self->state.n = n;
  callrt_next(self, 1);
}

outcome bench_callrt(actor_system& sys, int64_t n) {
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  auto server = sys.spawn(callrt_server);
  sys.spawn(callrt_client, server, n, actor{self});
  auto last = await_done(self);
  double secs = seconds_since(t0);
  auto count = ask_stop(self, server);
  expect(last == n && count == n, "last reply " + str(last) + ", server count "
                                    + str(count) + ", want " + str(n));
  return {secs, n, {}};
}

// --- calllat ----------------------------------------------------------------

// calllat: call latency under load. While 120 actors run the big workload
// without end in the background, a client actor makes n requests to the
// callrt counter server (one in flight, chained with .then) and times each
// round trip. Reports p50, p99, p99.9 and the maximum (nearest rank), and
// the background's rate (bg_ops_per_sec: pings + pongs over its lifetime),
// so a run that starves the background shows.

struct lat_bg_state : big_state {
  actor stopper;        // set by (stop_atom, driver): ping no more
  bool reported = false;
};

// big without end: (stop_atom, driver) makes the actor stop pinging and
// report its pings sent once its last pong is in; pings from others are
// still answered; get_atom returns the pings answered and ends the actor.
behavior lat_bg_actor(stateful_actor<lat_bg_state>* self, int id) {
  self->state.rng = (static_cast<uint64_t>(id) + 1) * 0x9E3779B97F4A7C15ULL;
  auto ping_random_peer = [self, id] {
    auto& st = self->state;
    auto r = static_cast<int>(
      (static_cast<uint64_t>(st.next_random()) * (big_actors - 1)) >> 32);
    if (r >= id)
      ++r;
    ++st.sent;
    self->send(st.peers[r], ping_atom::value);
  };
  return {
    [=](peers_atom, std::vector<actor>& peers) {
      self->state.peers = std::move(peers);
      ping_random_peer();
    },
    [=](ping_atom) {
      ++self->state.answered;
      return pong_atom::value;
    },
    [=](pong_atom) {
      auto& st = self->state;
      if (!st.stopper) {
        ping_random_peer();
      } else if (!st.reported) {
        st.reported = true;
        self->send(st.stopper, done_atom::value, st.sent);
      }
    },
    [=](stop_atom, const actor& driver) { self->state.stopper = driver; },
    [=](get_atom) {
      self->state.peers.clear(); // break the reference cycles
      self->state.stopper = actor{};
      self->quit();
      return self->state.answered;
    },
  };
}

struct lat_client_state {
  actor server;
  actor driver;
  int64_t n = 0;
  std::vector<int64_t>* rtts = nullptr; // the driver's; read after done
};

void calllat_next(stateful_actor<lat_client_state>* self, int64_t i) {
  auto t = clock_type::now();
  self->request(self->state.server, infinite, add_atom::value)
    .then(
      [=](int64_t reply) {
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    clock_type::now() - t)
                    .count();
        (*self->state.rtts)[i - 1] = ns;
        expect(reply == i, "reply " + str(reply) + ", want " + str(i));
        if (i == self->state.n)
          self->send(self->state.driver, done_atom::value, reply);
        else
          calllat_next(self, i + 1);
      },
      [=](error& err) { fail("call: " + to_string(err)); });
}

void calllat_client(stateful_actor<lat_client_state>* self, actor server,
                    int64_t n, actor driver, std::vector<int64_t>* rtts) {
  self->state.server = std::move(server);
  self->state.driver = std::move(driver);
  self->state.n = n;
  self->state.rtts = rtts;
  calllat_next(self, 1);
}

// Nearest-rank percentile (permille / 1000) of a sorted vector.
int64_t percentile(const std::vector<int64_t>& sorted, int64_t permille) {
  auto n = static_cast<int64_t>(sorted.size());
  auto rank = std::max<int64_t>(1, (n * permille + 999) / 1000);
  return sorted[static_cast<size_t>(rank - 1)];
}

outcome bench_calllat(actor_system& sys, int64_t n) {
  scoped_actor self{sys};
  auto bg0 = clock_type::now();
  std::vector<actor> peers;
  for (int i = 0; i < big_actors; ++i)
    peers.push_back(sys.spawn(lat_bg_actor, i));
  for (auto& p : peers)
    self->send(p, peers_atom::value, peers);
  std::vector<int64_t> rtts(static_cast<size_t>(n));
  auto t0 = clock_type::now();
  auto server = sys.spawn(callrt_server);
  sys.spawn(calllat_client, server, n, actor{self}, &rtts);
  auto last = await_done(self);
  double secs = seconds_since(t0);
  for (auto& p : peers)
    self->send(p, stop_atom::value, actor{self});
  int64_t sent = 0;
  for (int i = 0; i < big_actors; ++i)
    sent += await_done(self);
  double bg_secs = seconds_since(bg0);
  int64_t answered = 0;
  for (auto& p : peers)
    self->request(p, infinite, get_atom::value)
      .receive([&](int64_t a) { answered += a; },
               [&](error& err) { fail("get: " + to_string(err)); });
  auto count = ask_stop(self, server);
  expect(last == n && count == n, "last reply " + str(last) + ", server count "
                                    + str(count) + ", want " + str(n));
  expect(sent == answered && sent > 0, "background sent " + str(sent)
                                         + " pings, " + str(answered)
                                         + " answered");
  std::sort(rtts.begin(), rtts.end());
  return {secs,
          n,
          {{"p50_ns", static_cast<double>(percentile(rtts, 500))},
           {"p99_ns", static_cast<double>(percentile(rtts, 990))},
           {"p999_ns", static_cast<double>(percentile(rtts, 999))},
           {"max_ns", static_cast<double>(rtts.back())},
           {"bg_ops", static_cast<double>(2 * sent)},
           {"bg_ops_per_sec", 2.0 * static_cast<double>(sent) / bg_secs}}};
}

#include "caf_savina2.hpp" // bndbuffer ... fib (issue 20)

// --- driver -----------------------------------------------------------------

struct bench_def {
  const char* name;
  int64_t default_n;
  outcome (*run)(actor_system&, int64_t);
};

const bench_def benches[] = {
  {"pingpong", 1000000, bench_pingpong},
  {"counting", 2000000, bench_counting},
  {"threadring", 2000000, bench_threadring},
  {"fjthrput", 200000, bench_fjthrput},
  {"fjcreate", 100000, bench_fjcreate},
  {"chameneos", 200000, bench_chameneos},
  {"big", 20000, bench_big},
  {"skynet", 1000000, bench_skynet},
  {"mailbox", 100000, bench_mailbox},
  {"spawnmem", 1000000, bench_spawnmem},
  {"callrt", 500000, bench_callrt},
  {"calllat", 100000, bench_calllat},
  {"overload", 250000, bench_overload},
  {"bndbuffer", 1000000, bench_bndbuffer},
  {"philosopher", 20000, bench_philosopher},
  {"barber", 200000, bench_barber},
  {"banking", 500000, bench_banking},
  {"trapezoid", 2000000, bench_trapezoid},
  {"fib", 27, bench_fib},
};

[[noreturn]] void usage(const std::string& msg) {
  std::fprintf(stderr,
               "caf-bench: %s\nusage: caf-bench NAME [--n N] [--threads T] "
               "[--json] | --list\n",
               msg.c_str());
  std::exit(2);
}

int64_t positive(const char* s) {
  char* end = nullptr;
  long long v = std::strtoll(s, &end, 10);
  if (end == s || *end != '\0' || v <= 0)
    usage(std::string{"expected a positive integer, got "} + s);
  return v;
}

std::string number(double v) {
  char buf[64];
  if (v == static_cast<double>(static_cast<int64_t>(v)))
    std::snprintf(buf, sizeof buf, "%" PRId64, static_cast<int64_t>(v));
  else
    std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2)
    usage("missing benchmark name");
  if (std::strcmp(argv[1], "--list") == 0) {
    for (auto& b : benches)
      std::printf("%s\n", b.name);
    return 0;
  }
  const bench_def* def = nullptr;
  for (auto& b : benches)
    if (std::strcmp(argv[1], b.name) == 0)
      def = &b;
  if (def == nullptr)
    usage(std::string{"unknown benchmark "} + argv[1]);
  g_bench = def->name;
  int64_t n = def->default_n;
  int64_t threads = std::thread::hardware_concurrency();
  bool json = false;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--n") == 0 && i + 1 < argc)
      n = positive(argv[++i]);
    else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
      threads = positive(argv[++i]);
    else if (std::strcmp(argv[i], "--json") == 0)
      json = true;
    else
      usage(std::string{"bad argument "} + argv[i]);
  }
  if (threads <= 0)
    threads = 1;

  actor_system_config cfg;
  // Everything else stays at CAF's defaults (work-stealing scheduler,
  // unlimited max-throughput).
  cfg.set("scheduler.max-threads", threads);
  outcome r;
  {
    actor_system sys{cfg};
    r = def->run(sys, n);
    // ~actor_system waits for all actors to terminate.
  }
  double rate = r.ops / (r.seconds > 0 ? r.seconds : 1e-9);
  if (json) {
    std::string extra = "\"ops\":" + std::to_string(r.ops);
    for (auto& kv : r.extra)
      extra += ",\"" + kv.first + "\":" + number(kv.second);
    std::printf("{\"bench\":\"%s\",\"system\":\"caf\",\"n\":%" PRId64
                ",\"threads\":%" PRId64
                ",\"seconds\":%.6f,\"ops_per_sec\":%.1f,\"extra\":{%s}}\n",
                def->name, n, threads, r.seconds, rate, extra.c_str());
  } else {
    std::string extra;
    for (auto& kv : r.extra)
      extra += " " + kv.first + "=" + number(kv.second);
    std::printf("caf %s: n=%" PRId64 " threads=%" PRId64 " %.4f s, %" PRId64
                " ops, %.0f ops/s (%.1f ns/op)%s\n",
                def->name, n, threads, r.seconds, r.ops, rate,
                r.seconds * 1e9 / r.ops, extra.c_str());
  }
  return 0;
}
