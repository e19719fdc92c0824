/* The HTTP/1.1 example server (docs/http.md): the supervision tree and
 * its processes, started from main (docs/examples/http_server.c). */
#ifndef HTTP_SERVICE_H
#define HTTP_SERVICE_H

#include <fauxtp/fauxtp.h>

typedef struct http_config {
    uint16_t port;      /* 0: any free port */
    int64_t idle_ms;    /* close a connection idle this long; 0 = 5000 */
    uint32_t max_conns; /* connection children at most; 0 = no limit */
} http_config;

typedef struct http_server {
    fx_pid counter, conns, acceptor;
    uint16_t port; /* the port it listens on */
} http_server;

/* Starts the counter GenServer (registered as "counter"), the dynamic
 * supervisor of connections and the acceptor, and waits until the
 * socket listens. The inbox's owner thread. 0 or an FX_E* code. */
int http_server_start(fx_inbox *in, const http_config *cfg, http_server *out);

/* The exact bytes of the GET /plaintext answer (the benchmark peers send
 * the same). */
extern const char http_plaintext[];
extern const size_t http_plaintext_len;

#endif
