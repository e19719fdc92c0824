/* A tour of the term API (docs/terms.md): build a term three ways, print
 * it in Erlang syntax, read it back with the cursor, send one to an actor
 * as an FX_MSG_TERM message, and convert a plain message to {Type, <<P>>}
 * and back. Exits non-zero when a value read back is wrong. */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <string.h>

static int check(int ok, const char *what)
{
    if (!ok)
        fprintf(stderr, "term_tour: %s\n", what);
    return ok ? 0 : 1;
}

/* An actor that answers {ping, N} with {pong, N + 1}. */
static fx_next ponger(fx_ctx *cx, fx_msg *msg)
{
    fx_term_reader r;
    int64_t n;
    if (fx_term_reader_init_msg(&r, msg) == 0 && fx_term_match(&r, "ping", 2) == 1 &&
        fx_term_get_i64(&r, &n) == 0) {
        fx_msg *reply;
        if (fx_term_format_msg(&reply, "{pong, ~l}", n + 1) == 0 &&
            fx_send_msg(cx, fx_msg_from(msg), reply) != 0)
            fx_msg_free(reply);
    }
    return fx_continue(cx);
}

int main(void)
{
    int bad = 0;
    char text[256];

    /* 1. Put by put: {user, <<"ada">>, [admin, dev], #{age => 36}} */
    fx_term_builder b;
    fx_term_builder_init(&b);
    fx_term_put_tuple(&b, 4);
    fx_term_put_atomz(&b, "user");
    fx_term_put_binary(&b, "ada", 3);
    fx_term_put_list(&b, 2);
    fx_term_put_atomz(&b, "admin");
    fx_term_put_atomz(&b, "dev");
    fx_term_put_nil(&b);
    fx_term_put_map(&b, 1);
    fx_term_put_atomz(&b, "age");
    fx_term_put_i64(&b, 36);
    const void *bytes;
    size_t size;
    bad += check(fx_term_builder_data(&b, &bytes, &size) == 0, "builder_data");
    fx_term_sprint(bytes, size, text, sizeof text);
    printf("built:     %s (%zu bytes of ETF)\n", text, size);

    /* 2. The one-liner gives the same bytes. */
    fx_term_builder f;
    fx_term_builder_init(&f);
    fx_term_format(&f, "{user, ~b, [admin, dev], #{age => ~i}}", "ada", 36);
    const void *fbytes;
    size_t fsize;
    fx_term_builder_data(&f, &fbytes, &fsize);
    printf("formatted: same bytes: %s\n",
           fsize == size && memcmp(fbytes, bytes, size) == 0 ? "yes" : "no");

    /* 3. Read it back with the cursor. */
    fx_term_reader r;
    fx_term_reader_init(&r, bytes, size);
    if (fx_term_match(&r, "user", 4) == 1) {
        const void *name;
        size_t len;
        uint32_t roles, pairs;
        fx_term_get_binary(&r, &name, &len);
        printf("name:      %.*s\n", (int) len, (const char *) name);
        fx_term_get_list(&r, &roles);
        for (uint32_t k = 0; k < roles; k++) {
            char role[FX_TERM_ATOM_MAX + 1];
            fx_term_get_atom(&r, role, sizeof role, NULL);
            printf("role:      %s\n", role);
        }
        fx_term_get_nil(&r); /* the proper list's tail */
        fx_term_get_map(&r, &pairs);
        for (uint32_t k = 0; k < pairs; k++) {
            char key[FX_TERM_ATOM_MAX + 1];
            int64_t v = 0;
            fx_term_get_atom(&r, key, sizeof key, NULL);
            fx_term_get_i64(&r, &v);
            printf("%-10s %lld\n", strcat(key, ":"), (long long) v);
            bad += check(v == 36, "age");
        }
        bad += check(fx_term_at_end(&r), "at end");
    } else {
        bad += check(0, "match {user, ...}");
    }
    fx_term_builder_fini(&f);
    fx_term_builder_fini(&b);

    /* 4. An FX_MSG_TERM message to an actor and its answer. */
    fx_vm_config c;
    fx_vm_config_init(&c);
    c.threads = 2;
    fx_vm *vm;
    fx_inbox *in;
    fx_pid p;
    if (fx_vm_create(&c, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &in) ||
        fx_vm_spawn(vm, ponger, NULL, &p))
        return 1;
    fx_msg *ping, *pong = NULL;
    fx_term_format_msg(&ping, "{ping, ~i}", 41);
    if (fx_inbox_send_msg(in, p, ping) != 0)
        fx_msg_free(ping);
    fx_match m = {.type = FX_MSG_TERM, .from = p};
    bad += check(fx_inbox_recv(in, &m, 5000, &pong) == 0, "no pong");
    if (pong) {
        fx_term_sprint(fx_msg_data(pong), fx_msg_size(pong), text, sizeof text);
        printf("answer:    %s\n", text);
        fx_msg_free(pong);
    }
    fx_inbox_destroy(in);
    fx_vm_shutdown(vm);
    fx_vm_destroy(vm);

    /* 5. A plain message (type 7, a 2-byte payload) as {7, <<...>>}. */
    fx_term_builder_init(&b);
    fx_term_from_plain(&b, 7, "hi", 2);
    fx_term_builder_data(&b, &bytes, &size);
    fx_term_sprint(bytes, size, text, sizeof text);
    printf("plain:     %s\n", text);
    fx_term_reader_init(&r, bytes, size);
    uint32_t type = 0;
    const void *data;
    size_t n;
    bad += check(fx_term_to_plain(&r, &type, &data, &n) == 0 && type == 7 && n == 2 &&
                     memcmp(data, "hi", 2) == 0,
                 "to_plain");
    printf("back:      type %u, %zu bytes \"%.*s\"\n", type, n, (int) n,
           (const char *) data);
    fx_term_builder_fini(&b);
    return bad;
}
