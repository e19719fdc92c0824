/* Publish/subscribe with process groups. Each topic is a group:
 * subscribers join it from their own init, a publisher sends to every
 * member with one call, and a subscriber that exits leaves its groups by
 * itself (the registry monitors members). The publisher looks its
 * subscribers up by topic name only; it never holds their pids. */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { NEWS = 1, SUBSCRIBED, GOT, QUIT };

typedef struct subscriber {
    int id;
    const char *topic; /* a literal */
    fx_pid log;        /* where it reports (main's inbox) */
} subscriber;

typedef struct got {
    int id;
    char text[32];
} got;

static fx_next listen(fx_ctx *cx, fx_msg *m)
{
    subscriber *s = fx_state(cx);
    if (fx_msg_type(m) == QUIT)
        return fx_stop(cx, fx_reason_normal()); /* leaves its groups */
    if (fx_msg_type(m) == NEWS) {
        got g = {.id = s->id};
        snprintf(g.text, sizeof g.text, "%s: %s", s->topic,
                 (const char *) fx_msg_data(m));
        fx_send(cx, s->log, GOT, &g, sizeof g);
    }
    return fx_continue(cx);
}

static fx_next joined(fx_ctx *cx, fx_msg *m)
{
    subscriber *s = fx_state(cx);
    int rc = fx_registry_result(cx, m, NULL);
    if (rc != 0)
        fx_crash(cx, "cannot subscribe: %s", fx_strerror(rc));
    fx_send(cx, s->log, SUBSCRIBED, &s->id, sizeof s->id);
    return fx_become(cx, listen);
}

static fx_next subscribe(fx_ctx *cx, void *arg)
{
    (void) arg;
    subscriber *s = fx_state(cx);
    return fx_group_join_async(cx, s->topic, fx_self(cx), joined);
}

/* Publishes text on topic and prints what the subscribers got, in id
 * order. Returns the set of subscribers that got it (bit i for id i),
 * or -1. */
static int publish(fx_vm *vm, fx_inbox *me, const char *topic, const char *text)
{
    int n = fx_vm_group_send(vm, topic, NEWS, text, strlen(text) + 1);
    got all[8];
    for (int i = 0; i < n && i < 8; i++) {
        fx_msg *m;
        if (fx_inbox_recv(me, &(fx_match){.type = GOT}, 5000, &m) != 0)
            return -1;
        memcpy(&all[i], fx_msg_data(m), sizeof all[i]);
        fx_msg_free(m);
    }
    for (int i = 0; i < n; i++) /* arrival order varies: sort by id */
        for (int j = i + 1; j < n; j++)
            if (all[j].id < all[i].id) {
                got t = all[i];
                all[i] = all[j];
                all[j] = t;
            }
    int who = 0;
    for (int i = 0; i < n; i++) {
        printf("subscriber %d got %s\n", all[i].id, all[i].text);
        if (strstr(all[i].text, text))
            who |= 1 << all[i].id;
    }
    return n < 0 ? -1 : who;
}

int main(void)
{
    fx_vm *vm;
    fx_inbox *me;
    if (fx_vm_create(NULL, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &me))
        return 1;
    const char *topics[] = {"weather", "weather", "weather", "sports"};
    fx_pid subs[4];
    for (int i = 0; i < 4; i++) {
        subscriber s = {.id = i + 1, .topic = topics[i], .log = fx_inbox_pid(me)};
        fx_spawn_opts o = {.init = subscribe, .state_size = sizeof s, .state_init = &s};
        if (fx_vm_spawn_opt(vm, &o, &subs[i]) != 0)
            return 1;
    }
    for (int i = 0; i < 4; i++) { /* every subscription is in */
        fx_msg *m;
        if (fx_inbox_recv(me, &(fx_match){.type = SUBSCRIBED}, 5000, &m) != 0)
            return 1;
        fx_msg_free(m);
    }
    int first = publish(vm, me, "weather", "rain");
    int sports = publish(vm, me, "sports", "2-1");

    /* Subscriber 2 quits; the registry removes it when it sees it die. */
    fx_ref ref;
    fx_msg *down;
    fx_inbox_monitor(me, subs[1], &ref);
    fx_inbox_send(me, subs[1], QUIT, NULL, 0);
    fx_inbox_recv(me, &(fx_match){.type = FX_MSG_DOWN, .ref = ref}, 5000, &down);
    fx_msg_free(down);
    for (int i = 0; i < 5000 && fx_group_members(vm, "weather", NULL, 0) != 2; i++)
        usleep(1000);
    printf("weather has %d subscribers\n", fx_group_members(vm, "weather", NULL, 0));
    int second = publish(vm, me, "weather", "sun");
    int nobody = fx_vm_group_send(vm, "politics", NEWS, "?", 2);
    printf("politics: %d subscribers\n", nobody);

    fx_inbox_destroy(me);
    fx_vm_destroy(vm);
    /* ids 1-3 read the weather, 4 the sports; 2 left before the sun. */
    return first == 0xe && sports == 0x10 && second == 0xa && nobody == 0 ? 0 : 1;
}
