/* gen_statem internals shared by src/otp/gen_statem*.c.
 *
 * A state machine is a GenServer (public gen_server.h API only) whose
 * callbacks are the glue in gen_statem.c; its GenServer state is the
 * struct fx_sm below, touched only by the machine's own callbacks (one
 * actor, one thread at a time) and by its terminate.
 *
 * Events come from the GenServer callbacks (call, cast, info, a call's
 * response) or from the machine's own queue (inserted events, postponed
 * events being retried, zero-time timeouts), which is drained before the
 * GenServer loop looks at the mailbox again. Timeouts are fx_send_after
 * messages to self (type FXI_SM_TMO) carrying a sequence number: a timer
 * that was cancelled or restarted after its message was sent is
 * recognised by its stale number and dropped, so fx_cancel_timer's races
 * do not matter. */
#ifndef FXI_OTP_SM_IMPL_H
#define FXI_OTP_SM_IMPL_H

#include <fauxtp/error.h>
#include <fauxtp/gen_statem.h>
#include <fauxtp/timer.h>
#include <fauxtp/vm.h>

/* gen_statem's part of the behaviour range: [BASE + 0x400, BASE + 0x410). */
#define FXI_SM_TMO (FX_MSG_BEHAVIOUR_BASE + 0x400u) /* fxi_sm_tmo_hdr + data */

/* fx_sm_ret.op */
enum { FXI_SM_NEXT = 1, FXI_SM_KEEP, FXI_SM_REPEAT, FXI_SM_STOP, FXI_SM_IGNORE };

/* Which callback is running (what actions it may take). */
enum { FXI_SM_CB_NONE = 0, FXI_SM_CB_INIT, FXI_SM_CB_EVENT, FXI_SM_CB_ENTER };

/* An event the machine owns: queued, postponed, or pending as a timeout's
 * content. */
typedef struct fxi_sm_ev {
    struct fxi_sm_ev *next;
    int32_t kind;
    uint32_t type;
    fx_from from;
    fx_msg *msg;     /* INFO: a kept message (owned) */
    uint64_t name;   /* GENERIC_TIMEOUT */
    uint64_t seq;    /* timeouts: the arming's number */
    fx_response res; /* RESPONSE (res.data points into data[]) */
    size_t size;
    _Alignas(16) unsigned char data[];
} fxi_sm_ev;

typedef struct fxi_sm_q {
    fxi_sm_ev *head, *tail;
} fxi_sm_q;

/* One timeout slot. */
typedef struct fxi_sm_slot {
    uint64_t name;  /* generic timeouts */
    uint64_t seq;   /* the arming's number; matches the event's */
    fx_timer timer; /* valid while has_timer */
    bool armed;
    bool has_timer;
} fxi_sm_slot;

/* The timer message's header (then the user's data). */
typedef struct fxi_sm_tmo_hdr {
    int32_t kind; /* FX_SM_TIMEOUT, FX_SM_STATE_TIMEOUT, FX_SM_GENERIC_TIMEOUT */
    uint32_t type;
    uint64_t name;
    uint64_t seq;
    uint64_t reserved;
} fxi_sm_tmo_hdr;

struct fx_sm {
    const fx_sm_ops *ops;
    fx_ctx *cx; /* the running GenServer callback's */
    fx_vm *vm;
    void *data;
    fx_sm_state state;
    bool init_called;
    bool stopped; /* a stop answer was carried out */
    /* The callback in progress and its actions. */
    int cb;
    bool postpone;
    int bad;              /* a refused action's error (stops the machine) */
    const char *bad_what; /* ... and what it was */
    fxi_sm_q next;        /* fx_sm_next_event, in call order */
    fxi_sm_q zero;        /* zero-time state/generic timeouts */
    bool st_set;          /* a state timeout was set or cancelled */
    bool et_set;          /* an event timeout was asked for ... */
    int64_t et_ms;        /* ... after et_ms ... */
    fxi_sm_ev *et_ev;     /* ... with this content (owned) */
    /* Queues. */
    fxi_sm_q queue;     /* handled before the mailbox */
    fxi_sm_q postponed; /* retried after the next state change */
    /* Timeouts. */
    uint64_t seq;
    fxi_sm_slot et, st;
    fxi_sm_slot *gen;
    size_t ngen, capgen;
};

/* gen_statem_event.c: owned events and queues. */
fxi_sm_ev *fxi_sm_ev_new(int32_t kind, uint32_t type, const void *data, size_t size);
void fxi_sm_ev_free(fxi_sm_ev *e);
void fxi_sm_q_push(fxi_sm_q *q, fxi_sm_ev *e);
fxi_sm_ev *fxi_sm_q_pop(fxi_sm_q *q);
/* Moves all of src in front of dst (src stays empty). */
void fxi_sm_q_prepend(fxi_sm_q *dst, fxi_sm_q *src);
/* Moves all of src behind dst. */
void fxi_sm_q_append(fxi_sm_q *dst, fxi_sm_q *src);
void fxi_sm_q_free(fxi_sm_q *q);
/* Fills a callback's view of e. */
void fxi_sm_ev_view(const fx_sm *sm, const fxi_sm_ev *e, fx_sm_event *v);
/* An owned copy of a view (for a postpone); an INFO's message is kept
 * (it must be the message being handled, or be owned already: owned_msg). */
fxi_sm_ev *fxi_sm_ev_own(fx_sm *sm, const fx_sm_event *v, uint64_t seq);

/* gen_statem_timeout.c */
/* Arms slot `s` (cancelling what it had) for ms with content e (owned:
 * sent in a timer message, or queued in sm->zero for ms 0; freed on
 * error). ms 0 of an event timeout: a message to self. */
int fxi_sm_arm(fx_sm *sm, fxi_sm_slot *s, int64_t ms, fxi_sm_ev *e);
void fxi_sm_disarm(fx_sm *sm, fxi_sm_slot *s);
/* The slot a timeout event belongs to (NULL: none, a generic one never
 * armed); create: add a generic slot. */
fxi_sm_slot *fxi_sm_slot_of(fx_sm *sm, int32_t kind, uint64_t name, bool create);
/* true when a timeout event e (seq) is still the slot's current arming;
 * then the slot is disarmed (it fired). Non-timeout events: true. */
bool fxi_sm_fire(fx_sm *sm, int32_t kind, uint64_t name, uint64_t seq);
void fxi_sm_slots_free(fx_sm *sm);

/* gen_statem.c: a response to fx_sm_call_then, as an event (fx_gs_then). */
fx_gs_ret fxi_sm_response(fx_ctx *cx, void *state, const fx_response *res);

/* gen_statem_loop.c */
/* Handles one event (borrowed view in v, owned in e or NULL) and
 * everything queued after it; then the GenServer answer. */
fx_gs_ret fxi_sm_handle(fx_sm *sm, fx_sm_event *v, fxi_sm_ev *e);
/* Handles the queue only (after init). */
fx_gs_ret fxi_sm_after_init(fx_sm *sm);
/* Starts a callback's action set. */
void fxi_sm_begin(fx_sm *sm, int cb);
/* Records a refused action. Returns code. */
int fxi_sm_refuse(fx_sm *sm, int code, const char *what);

#endif
