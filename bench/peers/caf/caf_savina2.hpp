// caf_savina2.hpp -- the Savina workloads added with issue 20 for the CAF
// peer: bndbuffer, philosopher, barber, banking, trapezoid, fib. Same work,
// ops and checks as fauxtp's bench/savina2_benches.c and savina3_benches.c.
// Included by caf_bench.cpp inside its anonymous namespace (it uses
// outcome, expect, str, seconds_since and the atoms defined there).

using data_atom = atom_constant<atom("data")>;
using produce_atom = atom_constant<atom("produce")>;
using avail_atom = atom_constant<atom("avail")>;
using hungry_atom = atom_constant<atom("hungry")>;
using eat_atom = atom_constant<atom("eat")>;
using denied_atom = atom_constant<atom("denied")>;
using ate_atom = atom_constant<atom("ate")>;
using leave_atom = atom_constant<atom("leave")>;
using enter_atom = atom_constant<atom("enter")>;
using full_atom = atom_constant<atom("full")>;
using returned_atom = atom_constant<atom("returned")>;
using start_atom = atom_constant<atom("start")>;
using cut_atom = atom_constant<atom("cut")>;
using transfer_atom = atom_constant<atom("transfer")>;
using credit_atom = atom_constant<atom("credit")>;
using credited_atom = atom_constant<atom("credited")>;

// --- bndbuffer ----------------------------------------------------------------

constexpr int bb_producers = 40;
constexpr int bb_consumers = 40;
constexpr size_t bb_size = 50;
constexpr size_t bb_adjusted = bb_size - bb_producers; // Savina's adjusted size

struct bb_manager_state {
  std::deque<int64_t> buf;
  std::vector<actor> idle, waiting;
  int64_t delivered = 0;
  int stopped = 0;
};

behavior bb_manager(stateful_actor<bb_manager_state>* self, int64_t n) {
  auto after = [=] {
    auto& st = self->state;
    if (st.delivered == n) {
      for (auto& c : st.idle) {
        self->send(c, stop_atom::value);
        ++st.stopped;
      }
      st.idle.clear();
    }
    if (st.stopped == bb_consumers)
      self->quit();
  };
  return {
    [=](data_atom, int64_t item, actor& p) {
      auto& st = self->state;
      if (!st.idle.empty()) {
        self->send(st.idle.back(), data_atom::value, item);
        st.idle.pop_back();
        ++st.delivered;
      } else {
        expect(st.buf.size() < bb_size, "item from a producer told to wait");
        st.buf.push_back(item);
      }
      if (st.buf.size() < bb_adjusted)
        self->send(p, produce_atom::value);
      else
        st.waiting.push_back(std::move(p));
      after();
    },
    [=](avail_atom, actor& c) {
      auto& st = self->state;
      if (st.delivered == n) {
        self->send(c, stop_atom::value);
        ++st.stopped;
      } else if (st.buf.empty()) {
        st.idle.push_back(std::move(c));
      } else {
        self->send(c, data_atom::value, st.buf.front());
        st.buf.pop_front();
        ++st.delivered;
        if (!st.waiting.empty()) {
          self->send(st.waiting.back(), produce_atom::value);
          st.waiting.pop_back();
        }
      }
      after();
    },
  };
}

struct bb_producer_state {
  int64_t next = 0;
};

behavior bb_producer(stateful_actor<bb_producer_state>* self, actor mgr,
                     int64_t first, int64_t n) {
  if (first >= n)
    return {};
  self->state.next = first;
  self->send(mgr, data_atom::value, first, actor_cast<actor>(self));
  return {
    [=](produce_atom) {
      auto& st = self->state;
      st.next += bb_producers;
      if (st.next >= n)
        self->quit();
      else
        self->send(mgr, data_atom::value, st.next, actor_cast<actor>(self));
    },
  };
}

struct bb_consumer_state {
  int64_t sum = 0;
};

behavior bb_consumer(stateful_actor<bb_consumer_state>* self, actor mgr,
                     actor driver) {
  self->send(mgr, avail_atom::value, actor_cast<actor>(self));
  return {
    [=](data_atom, int64_t v) {
      self->state.sum += v;
      self->send(mgr, avail_atom::value, actor_cast<actor>(self));
    },
    [=](stop_atom) {
      self->send(driver, done_atom::value, self->state.sum);
      self->quit();
    },
  };
}

outcome bench_bndbuffer(actor_system& sys, int64_t n) {
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  auto mgr = sys.spawn(bb_manager, n);
  for (int i = 0; i < bb_consumers; ++i)
    sys.spawn(bb_consumer, mgr, actor{self});
  for (int64_t p = 0; p < bb_producers; ++p)
    sys.spawn(bb_producer, mgr, p, n);
  int64_t sum = 0;
  for (int i = 0; i < bb_consumers; ++i)
    sum += await_done(self);
  double secs = seconds_since(t0);
  expect(sum == n * (n - 1) / 2,
         "items sum to " + str(sum) + ", want " + str(n * (n - 1) / 2));
  return {secs, 4 * n, {}};
}

// --- philosopher --------------------------------------------------------------

constexpr int philosophers = 20;

struct arbitrator_state {
  bool fork[philosophers] = {};
  int64_t meals = 0, denied = 0;
  int left = philosophers;
};

behavior arbitrator(stateful_actor<arbitrator_state>* self, actor driver) {
  return {
    [=](hungry_atom, int id, actor& p) {
      auto& st = self->state;
      int right = (id + 1) % philosophers;
      if (st.fork[id] || st.fork[right]) {
        ++st.denied;
        self->send(p, denied_atom::value);
      } else {
        st.fork[id] = st.fork[right] = true;
        self->send(p, eat_atom::value);
      }
    },
    [=](ate_atom, int id) {
      auto& st = self->state;
      int right = (id + 1) % philosophers;
      expect(st.fork[id] && st.fork[right],
             "a philosopher gave back forks it did not hold");
      st.fork[id] = st.fork[right] = false;
      ++st.meals;
    },
    [=](leave_atom) {
      auto& st = self->state;
      if (--st.left == 0) {
        self->send(driver, done_atom::value, st.meals, st.denied);
        self->quit();
      }
    },
  };
}

struct philosopher_state {
  int64_t meals = 0;
};

behavior philosopher(stateful_actor<philosopher_state>* self, actor arb, int id,
                     int64_t n) {
  self->send(arb, hungry_atom::value, id, actor_cast<actor>(self));
  return {
    [=](denied_atom) {
      self->send(arb, hungry_atom::value, id, actor_cast<actor>(self));
    },
    [=](eat_atom) {
      self->send(arb, ate_atom::value, id);
      if (++self->state.meals < n) {
        self->send(arb, hungry_atom::value, id, actor_cast<actor>(self));
      } else {
        self->send(arb, leave_atom::value);
        self->quit();
      }
    },
  };
}

outcome bench_philosopher(actor_system& sys, int64_t n) {
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  auto arb = sys.spawn(arbitrator, actor{self});
  for (int i = 0; i < philosophers; ++i)
    sys.spawn(philosopher, arb, i, n);
  int64_t meals = -1, denied = -1;
  self->receive([&](done_atom, int64_t m, int64_t d) {
    meals = m;
    denied = d;
  });
  double secs = seconds_since(t0);
  expect(meals == philosophers * n,
         str(meals) + " meals, want " + str(philosophers * n));
  return {secs, philosophers * n, {{"denied", static_cast<double>(denied)}}};
}

// --- barber -------------------------------------------------------------------

constexpr size_t room_chairs = 100;
constexpr int64_t shop_limit = 150;

struct room_state {
  std::deque<actor> chairs;
  bool asleep = true;
};

behavior waiting_room(stateful_actor<room_state>* self, actor barber) {
  return {
    [=](enter_atom, actor& c) {
      auto& st = self->state;
      if (st.asleep) {
        st.asleep = false;
        self->send(barber, enter_atom::value, c, actor_cast<actor>(self));
      } else if (st.chairs.size() == room_chairs) {
        self->send(c, full_atom::value);
      } else {
        st.chairs.push_back(std::move(c));
      }
    },
    [=](next_atom) {
      auto& st = self->state;
      if (st.chairs.empty()) {
        st.asleep = true;
      } else {
        self->send(barber, enter_atom::value, st.chairs.front(),
                   actor_cast<actor>(self));
        st.chairs.pop_front();
      }
    },
    [=](stop_atom) { self->quit(); },
  };
}

struct barber_state {
  int64_t cuts = 0;
};

behavior barber_actor(stateful_actor<barber_state>* self) {
  return {
    [=](enter_atom, const actor& c, const actor& room) {
      self->send(c, start_atom::value);
      ++self->state.cuts;
      self->send(c, cut_atom::value);
      self->send(room, next_atom::value);
    },
    [=](stop_atom) {
      self->quit();
      return self->state.cuts;
    },
  };
}

behavior customer(event_based_actor* self, actor factory, int64_t id) {
  return {
    [=](full_atom) {
      self->send(factory, returned_atom::value, actor_cast<actor>(self));
    },
    [=](start_atom) {},
    [=](cut_atom) {
      self->send(factory, leave_atom::value, id);
      self->quit();
    },
  };
}

// The factory is the driver (a scoped actor), as in the Erlang peer.
outcome bench_barber(actor_system& sys, int64_t n) {
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  auto barber = sys.spawn(barber_actor);
  auto room = sys.spawn(waiting_room, barber);
  int64_t made = 0, left = 0, idsum = 0, returned = 0;
  std::deque<actor> back;
  auto send_new = [&] {
    auto c = sys.spawn(customer, actor{self}, made++);
    self->send(room, enter_atom::value, c);
  };
  while (made < n && made < shop_limit)
    send_new();
  while (left < n) {
    self->receive(
      [&](returned_atom, actor& c) {
        ++returned;
        back.push_back(std::move(c));
      },
      [&](leave_atom, int64_t id) {
        idsum += id;
        if (++left == n)
          return;
        if (!back.empty()) {
          self->send(room, enter_atom::value, back.front());
          back.pop_front();
        } else if (made < n) {
          send_new();
        }
      });
  }
  double secs = seconds_since(t0);
  self->send(room, stop_atom::value);
  int64_t cuts = ask_stop(self, barber);
  expect(cuts == n && idsum == n * (n - 1) / 2,
         str(cuts) + " haircuts, ids sum to " + str(idsum));
  return {secs, n, {{"returned", static_cast<double>(returned)}}};
}

// --- banking ------------------------------------------------------------------

constexpr int accounts = 1000;
constexpr int64_t bank_window = 60;
constexpr int64_t bank_start = 1000000;

struct transfer_req {
  int dst;
  int64_t amount;
};

struct account_state {
  std::vector<actor> peers;
  int64_t balance = bank_start;
  bool busy = false;
  std::deque<transfer_req> deferred; // transfers that came while busy
  actor teller;
};

// While its credit request is out, an account defers its own transfers but
// still credits others (so accounts cannot deadlock).
behavior account_actor(stateful_actor<account_state>* self) {
  auto start = [=](transfer_req t) {
    auto& st = self->state;
    st.balance -= t.amount;
    st.busy = true;
    self->send(st.peers[t.dst], credit_atom::value, t.amount,
               actor_cast<actor>(self));
  };
  return {
    [=](peers_atom, std::vector<actor>& peers) {
      self->state.peers = std::move(peers);
    },
    [=](transfer_atom, int dst, int64_t amount, actor& teller) {
      auto& st = self->state;
      st.teller = std::move(teller);
      if (st.busy)
        st.deferred.push_back({dst, amount});
      else
        start({dst, amount});
    },
    [=](credit_atom, int64_t amount, const actor& from) {
      self->state.balance += amount;
      self->send(from, credited_atom::value);
    },
    [=](credited_atom) {
      auto& st = self->state;
      st.busy = false;
      self->send(st.teller, credited_atom::value);
      if (!st.deferred.empty()) {
        auto t = st.deferred.front();
        st.deferred.pop_front();
        start(t);
      }
    },
    [=](stop_atom) {
      self->state.peers.clear(); // break the reference cycles
      self->quit();
      return self->state.balance;
    },
  };
}

uint64_t xorshift(uint64_t& s) {
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 0x2545F4914F6CDD1DULL;
}

transfer_req draw(uint64_t& rng, int& src) {
  src = static_cast<int>(xorshift(rng) % accounts);
  int dst = static_cast<int>((src + 1 + xorshift(rng) % (accounts - 1)) % accounts);
  return {dst, static_cast<int64_t>(1 + xorshift(rng) % 1000)};
}

// The teller is the driver (a scoped actor).
outcome bench_banking(actor_system& sys, int64_t n) {
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  std::vector<actor> accts;
  for (int i = 0; i < accounts; ++i)
    accts.push_back(sys.spawn(account_actor));
  for (auto& a : accts)
    self->send(a, peers_atom::value, accts);
  uint64_t rng = 0x9E3779B97F4A7C15ULL;
  int64_t sent = 0, done = 0;
  auto send = [&] {
    int src;
    auto t = draw(rng, src);
    ++sent;
    self->send(accts[src], transfer_atom::value, t.dst, t.amount, actor{self});
  };
  while (sent < n && sent < bank_window)
    send();
  while (done < n) {
    self->receive([&](credited_atom) {
      ++done;
      if (sent < n)
        send();
    });
  }
  double secs = seconds_since(t0);
  std::vector<int64_t> delta(accounts);
  rng = 0x9E3779B97F4A7C15ULL;
  for (int64_t i = 0; i < n; ++i) {
    int src;
    auto t = draw(rng, src);
    delta[src] -= t.amount;
    delta[t.dst] += t.amount;
  }
  int bad = 0;
  for (int i = 0; i < accounts; ++i)
    if (ask_stop(self, accts[i]) != bank_start + delta[i])
      ++bad;
  expect(bad == 0, str(bad) + " of " + str(accounts) + " balances wrong");
  return {secs, 4 * n, {}};
}

// --- trapezoid ----------------------------------------------------------------

constexpr int64_t trap_workers = 100;

double trap_f(double x) {
  double a = std::sin(std::pow(x, 3) - 1), b = x + 1, c = a / b;
  double d = std::sqrt(1 + std::exp(std::sqrt(2 * x)));
  return c * d;
}

double trap_area(int64_t from, int64_t to, int64_t n) {
  double h = (5.0 - 1.0) / static_cast<double>(n), area = 0;
  for (int64_t i = from; i < to; ++i) {
    double x = 1.0 + static_cast<double>(i) * h;
    area += h * (trap_f(x) + trap_f(x + h)) / 2;
  }
  return area;
}

behavior trap_worker(event_based_actor* self, actor master, int64_t from,
                     int64_t to, int64_t n) {
  self->send(master, trap_area(from, to, n));
  return {}; // done: terminates
}

// The master is the driver (a scoped actor), as in the Erlang peer.
outcome bench_trapezoid(actor_system& sys, int64_t n) {
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  for (int64_t w = 0; w < trap_workers; ++w)
    sys.spawn(trap_worker, actor{self}, n * w / trap_workers,
              n * (w + 1) / trap_workers, n);
  double area = 0;
  for (int64_t w = 0; w < trap_workers; ++w)
    self->receive([&](double a) { area += a; });
  double secs = seconds_since(t0);
  double want = trap_area(0, n, n);
  expect(std::fabs(area - want) <= 1e-9 * std::fabs(want),
         "area " + std::to_string(area) + ", sequentially " + std::to_string(want));
  return {secs, n, {}};
}

// --- fib ----------------------------------------------------------------------

struct fib_state {
  int64_t sum = 0;
  int pending = 2;
};

behavior fib_actor(stateful_actor<fib_state>* self, actor parent, int64_t k) {
  if (k <= 2) {
    self->send(parent, int64_t{1});
    return {}; // no behavior: terminates
  }
  auto me = actor_cast<actor>(self);
  self->spawn(fib_actor, me, k - 1);
  self->spawn(fib_actor, me, k - 2);
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

outcome bench_fib(actor_system& sys, int64_t n) {
  expect(n >= 1 && n <= 60, "fib --n is the index, 1..60");
  int64_t a = 1, b = 1;
  for (int64_t i = 2; i < n; ++i) {
    int64_t c = a + b;
    a = b;
    b = c;
  }
  int64_t want = b;
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  sys.spawn(fib_actor, actor{self}, n);
  int64_t got = -1;
  self->receive([&](int64_t x) { got = x; });
  double secs = seconds_since(t0);
  expect(got == want, "fib(" + str(n) + ") = " + str(got) + ", want " + str(want));
  return {secs, 2 * want - 1, {}};
}
