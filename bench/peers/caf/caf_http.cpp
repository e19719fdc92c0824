// The CAF 0.17 peer of the I/O benchmark (issue 14; tools/bench --io): one
// io::broker for every connection, answering each complete request (every
// "\r\n\r\n", pipelined requests included) with the same plaintext
// response as the other systems; connections stay open. CAF 0.17 runs a
// broker on the middleman's multiplexer thread, so the server's I/O is
// single-threaded whatever the scheduler has, like the raw epoll peer:
// bench_io.sh runs it once, as a 1-thread figure. Usage: caf-http PORT
// (0: any free port); prints "port N" once it listens. Loopback only.
#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <unistd.h>
#include <unordered_map>

using namespace caf;
using namespace caf::io;

namespace {

const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n"
                    "Content-Type: text/plain\r\n\r\nHello, World!";

// Per connection: how much of "\r\n\r\n" the bytes so far end with.
using matches = std::unordered_map<connection_handle, int>;

behavior http_broker(broker* self, uint16_t port, actor reply_to) {
  // Loopback only; the port it got (0 on failure) goes to main.
  auto d = self->add_tcp_doorman(port, "127.0.0.1", true);
  self->send(reply_to, d ? d->second : uint16_t{0});
  auto m = std::make_shared<matches>();
  return {
    [=](const new_connection_msg& msg) {
      self->configure_read(msg.handle, receive_policy::at_most(8192));
      (*m)[msg.handle] = 0;
    },
    [=](const new_data_msg& msg) {
      int& k = (*m)[msg.handle];
      size_t n = 0;
      for (char c : msg.buf) {
        if (c == "\r\n\r\n"[k]) {
          if (++k == 4) {
            ++n;
            k = 0;
          }
        } else {
          k = c == '\r' ? 1 : 0;
        }
      }
      if (n == 0)
        return;
      auto& out = self->wr_buf(msg.handle);
      for (size_t i = 0; i < n; ++i)
        out.insert(out.end(), resp, resp + sizeof resp - 1);
      self->flush(msg.handle);
    },
    [=](const connection_closed_msg& msg) { m->erase(msg.handle); },
  };
}

} // namespace

int main(int argc, char** argv) {
  uint16_t port = argc > 1 ? static_cast<uint16_t>(atoi(argv[1])) : 0;
  actor_system_config cfg;
  cfg.load<io::middleman>();
  cfg.set("scheduler.max-threads", 1);
  actor_system sys{cfg};
  scoped_actor main_actor{sys};
  sys.middleman().spawn_broker(http_broker, port, actor{main_actor});
  main_actor->receive([&](uint16_t p) { port = p; });
  if (port == 0) {
    fprintf(stderr, "caf-http: cannot listen\n");
    return 1;
  }
  printf("port %u\n", static_cast<unsigned>(port));
  fflush(stdout);
  for (;;)
    pause(); // stopped by a signal (bench_io.sh kills it by pid)
}
