/* Publish/subscribe (issue 19's fourth example) with process groups:
 * each topic is a group, and the registry is the broker: it puts
 * subscribers in and takes them out of topics, and monitors them, so a
 * subscriber that exits leaves its topics by itself. A publisher sends to
 * every member of a topic with one call; it never holds their pids. The
 * Erlang version (with pg): erlang/pubsub.erl. */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <unistd.h>

enum { NEWS = 1, GOT, QUIT };
#define SUBS 4

typedef struct sub {
    unsigned id;
    fx_pid log; /* where it reports what it got (main's inbox) */
} sub;

typedef struct got {
    unsigned id;
    char text[40];
} got;

static fx_next listen(fx_ctx *cx, fx_msg *m)
{
    const sub *s = fx_state(cx);
    if (fx_msg_type(m) == QUIT)
        return fx_stop(cx, fx_reason_normal()); /* leaves its groups */
    got g = *FX_MSG_AS(cx, m, got);             /* NEWS: a got without an id */
    g.id = s->id;
    FX_SEND_T(cx, s->log, GOT, g);
    return fx_continue(cx);
}

/* Publishes "topic: text" and prints what each subscriber got, by id.
 * Returns 0 when every subscriber it reached answered. */
static int publish(fx_inbox *me, const char *topic, const char *text)
{
    got news = {0};
    snprintf(news.text, sizeof news.text, "%s: %s", topic, text);
    int n = fx_vm_group_send(fx_inbox_vm(me), topic, NEWS, &news, sizeof news);
    printf("%s: %d subscribers\n", topic, n);
    got all[SUBS + 1] = {{0}};
    for (int i = 0; i < n; i++) {
        got g;
        if (FX_INBOX_RECV_T(me, &(fx_match){.type = GOT}, 5000, &g) || g.id > SUBS)
            return 1;
        all[g.id] = g;
    }
    for (unsigned id = 1; id <= SUBS; id++)
        if (all[id].id)
            printf("subscriber %u got %s\n", id, all[id].text);
    return n < 0;
}

int main(void)
{
    fx_vm *vm;
    fx_inbox *me;
    if (fx_vm_create(NULL, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &me))
        return 1;
    const char *topics[SUBS] = {"weather", "weather", "weather", "sports"};
    fx_pid subs[SUBS];
    for (int i = 0; i < SUBS; i++) {
        sub s = {.id = (unsigned) i + 1, .log = fx_inbox_pid(me)};
        fx_spawn_opts o = {.handler = listen, .state_size = sizeof s, .state_init = &s};
        if (fx_vm_spawn_opt(vm, &o, &subs[i]) || fx_group_join(me, topics[i], subs[i]))
            return 1;
    }
    int failed = publish(me, "weather", "rain") + publish(me, "sports", "2-1");
    failed += fx_group_leave(me, "weather", subs[1]) != 0;
    printf("subscriber 2 unsubscribed\n");
    fx_ref ref; /* subscriber 3 quits: the registry sees it die */
    if (fx_inbox_monitor(me, subs[2], &ref) ||
        fx_inbox_send(me, subs[2], QUIT, NULL, 0) ||
        fx_assert_receive(me, &(fx_match){.type = FX_MSG_DOWN, .ref = ref}, 5000, NULL))
        return 1;
    printf("subscriber 3 quit\n");
    for (int i = 0; i < 5000 && fx_group_members(vm, "weather", NULL, 0) != 1; i++)
        usleep(1000);
    failed += publish(me, "weather", "sun") + publish(me, "politics", "?");
    fx_inbox_destroy(me);
    fx_vm_destroy(vm);
    return failed;
}
