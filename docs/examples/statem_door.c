/* The code lock (door) of OTP's gen_statem documentation, as a fauxtp
 * state machine: callback mode "state functions" with state enter calls.
 *
 * locked: buttons are collected (the last `length` of them); the right
 *         code opens the door; a wrong sequence is forgotten 30 s after
 *         the last button (a state timeout).
 * open:   relocks after a state timeout (OTP's example: 10 s; 100 ms
 *         here so the example runs fast); buttons are ignored.
 * Any state answers the call CODE_LENGTH. A WAIT_LOCKED call is
 * postponed while the door is open, so it is answered when it locks
 * again: a caller can wait for that without polling. */
#include <fauxtp/fauxtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BUTTON = 1, CODE_LENGTH, WAIT_LOCKED };
enum { LOCK_TIMEOUT = 1, BUTTON_TIMEOUT };

typedef struct door {
    int code[8], length;
    int buttons[8], n; /* the last buttons pressed */
} door;

static fx_sm_ret locked(fx_sm *sm, const fx_sm_event *ev, void *data);
static fx_sm_ret open_(fx_sm *sm, const fx_sm_event *ev, void *data);

/* Events every state handles the same way (OTP: handle_common/3). */
static int common(fx_sm *sm, const fx_sm_event *ev, door *d)
{
    if (ev->kind == FX_SM_CALL && ev->type == CODE_LENGTH) {
        fx_sm_reply(sm, ev->from, &d->length, sizeof d->length);
        return 1;
    }
    return 0;
}

static fx_sm_ret locked(fx_sm *sm, const fx_sm_event *ev, void *data)
{
    door *d = data;
    if (ev->kind == FX_SM_ENTER) {
        printf("Lock\n");
        d->n = 0;
        return fx_sm_keep_state(sm);
    }
    if (ev->kind == FX_SM_STATE_TIMEOUT) { /* too slow: start again */
        d->n = 0;
        return fx_sm_keep_state(sm);
    }
    if (ev->kind == FX_SM_CALL && ev->type == WAIT_LOCKED) {
        fx_sm_reply(sm, ev->from, NULL, 0);
        return fx_sm_keep_state(sm);
    }
    if (ev->kind == FX_SM_CAST && ev->type == BUTTON) {
        int b;
        memcpy(&b, ev->data, sizeof b);
        printf("Button %d\n", b);
        if (d->n == d->length) { /* keep the last length - 1 */
            memmove(d->buttons, d->buttons + 1, (size_t) (d->n - 1) * sizeof b);
            d->n--;
        }
        d->buttons[d->n++] = b;
        if (d->n == d->length && !memcmp(d->buttons, d->code, (size_t) d->n * sizeof b))
            return fx_sm_next_state(sm, fx_sm_fn(open_));
        fx_sm_state_timeout(sm, 30000, BUTTON_TIMEOUT, NULL, 0);
        return fx_sm_keep_state(sm);
    }
    common(sm, ev, d);
    return fx_sm_keep_state(sm);
}

static fx_sm_ret open_(fx_sm *sm, const fx_sm_event *ev, void *data)
{
    door *d = data;
    if (ev->kind == FX_SM_ENTER) {
        printf("Unlock\n");
        fx_sm_state_timeout(sm, 100, LOCK_TIMEOUT, NULL, 0);
        return fx_sm_keep_state(sm);
    }
    if (ev->kind == FX_SM_STATE_TIMEOUT)
        return fx_sm_next_state(sm, fx_sm_fn(locked));
    if (ev->kind == FX_SM_CALL && ev->type == WAIT_LOCKED) {
        fx_sm_postpone(sm); /* answered in locked, after the state change */
        return fx_sm_keep_state(sm);
    }
    common(sm, ev, d); /* buttons: ignored while open */
    return fx_sm_keep_state(sm);
}

static fx_sm_ret door_init(fx_sm *sm, void *arg, void **data)
{
    door *d = calloc(1, sizeof *d);
    if (!d)
        return fx_sm_stop(sm, fx_reason_error(FX_ENOMEM, "no memory"));
    const int *code = arg;
    for (d->length = 0; code[d->length] && d->length < 8; d->length++)
        d->code[d->length] = code[d->length];
    *data = d;
    return fx_sm_next_state(sm, fx_sm_fn(locked));
}

static void door_terminate(fx_vm *vm, fx_sm_state state, void *data, const fx_reason *why)
{
    (void) vm, (void) state;
    char buf[64];
    fx_reason_format(why, buf, sizeof buf);
    printf("terminate: %s\n", buf);
    free(data);
}

static const fx_sm_ops door_ops = {
    .init = door_init,
    .state_enter = true,
    .terminate = door_terminate,
};

static const int code[] = {1, 2, 3, 0};
static const fx_sm_spec door_spec = {
    .ops = &door_ops, .arg = (void *) code, .name = "code_lock"};

static int button(fx_vm *vm, int b)
{
    fx_pid p;
    int rc = fx_whereis(vm, "code_lock", &p);
    return rc ? rc : fx_vm_gs_cast(vm, p, BUTTON, &b, sizeof b);
}

int main(void)
{
    fx_vm *vm;
    fx_inbox *in;
    fx_pid door_pid;
    if (fx_vm_create(NULL, &vm) || fx_vm_start(vm) || fx_inbox_create(vm, &in))
        return 1;
    if (fx_sm_start(in, &door_spec, &door_pid, NULL) != 0)
        return 1;
    const int presses[] = {1, 2, 4, 1, 2, 3};
    for (size_t i = 0; i < sizeof presses / sizeof *presses; i++)
        if (button(vm, presses[i]) != 0)
            return 1;
    fx_msg *r = NULL;
    int len = 0;
    if (fx_gs_call(in, door_pid, CODE_LENGTH, NULL, 0, 5000, &r, NULL) != 0)
        return 1;
    memcpy(&len, fx_msg_data(r), sizeof len);
    fx_msg_free(r);
    printf("code length: %d\n", len);
    if (fx_gs_call(in, door_pid, WAIT_LOCKED, NULL, 0, 10000, &r, NULL) != 0)
        return 1;
    fx_msg_free(r);
    printf("locked again\n");
    if (fx_gs_stop_server(in, door_pid, fx_reason_normal(), 5000, NULL) != 0)
        return 1;
    fx_inbox_destroy(in);
    if (fx_vm_shutdown(vm) != 0)
        return 1;
    fx_vm_destroy(vm);
    return 0;
}
