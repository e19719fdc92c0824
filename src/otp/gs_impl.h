/* GenServer internals shared by the files of src/otp/gen_server*.c.
 *
 * Written against the public API only (<fauxtp/...>): nothing here may
 * include src/actor internals. The protocol:
 *
 *   start  starter spawns the server (spawn_monitor, or spawn_link plus a
 *          monitor), then sends it START with the monitor's ref. The
 *          server waits for START, runs init and answers with an ACK: a
 *          reply (fx_reply) on that ref, so a starter that gave up never
 *          sees it. init failing (stop, crash) is the monitor's DOWN.
 *   call   caller monitors the server and sends CALL with the monitor's
 *          ref; the reply is an FX_MSG_REPLY on that ref (fx_reply), so a
 *          late one is dropped by the runtime once the caller demonitors.
 *          A starter that times out kills the server (an inbox, which
 *          cannot send exit signals to a pid of an unknown VM, sends ABORT:
 *          the server exits with `killed` when it reaches it).
 *   cast   CAST, fire and forget.
 *   sys    SYS_STOP (stop with a reason); SYS_SUSPEND: the server answers
 *          with a reply and waits for GO (run fn, reply again) or CANCEL
 *          from the same caller; see gen_server_sys.c.
 *
 * Every envelope is one message: a 16-byte header, then the user's data
 * (16-byte aligned, like every payload). */
#ifndef FXI_OTP_GS_IMPL_H
#define FXI_OTP_GS_IMPL_H

#include <fauxtp/error.h>
#include <fauxtp/gen_server.h>
#include <fauxtp/registry.h>
#include <fauxtp/vm.h>

/* GenServer's part of the behaviour range: [BASE + 0x100, BASE + 0x200). */
#define FXI_GS_TYPE(n) (FX_MSG_BEHAVIOUR_BASE + 0x100u + (n))
#define FXI_GS_START FXI_GS_TYPE(0) /* starter -> server; ref = monitor ref */
/* Calls and casts carry the application's work: a mailbox limit may refuse
 * them (FX_MSG_REFUSABLE, outside the range above). */
#define FXI_GS_CALL                                                                      \
    (FXI_GS_TYPE(1) | FX_MSG_REFUSABLE) /* env + data; ref = monitor ref */
#define FXI_GS_CAST (FXI_GS_TYPE(2) | FX_MSG_REFUSABLE) /* env + data */
#define FXI_GS_SYS FXI_GS_TYPE(3)                       /* env (op), then the op's data */
#define FXI_GS_GO FXI_GS_TYPE(4)      /* caller -> suspended server: fxi_gs_go */
#define FXI_GS_CANCEL FXI_GS_TYPE(5)  /* caller -> suspended server: resume */
#define FXI_GS_FAIL FXI_GS_TYPE(6)    /* to self: an async op failed; int32 rc */
#define FXI_GS_PENDING FXI_GS_TYPE(7) /* never sent: fx_gs_stop_reply's buffer */
#define FXI_GS_ABORT FXI_GS_TYPE(8)   /* inbox starter -> server: start failed */
#define FXI_GS_STARTED FXI_GS_TYPE(9) /* to self: a child counted as started; fx_pid */
/* FXI_GS_TYPE(10) and (11): a request's timeout and failure (request_impl.h) */

/* Envelope header. CALL/CAST: type = the user's type, then the data.
 * SYS: op = FXI_GS_SYS_*. */
typedef struct fxi_gs_env {
    uint32_t type;
    uint32_t op;
    uint64_t reserved;
} fxi_gs_env;

enum { FXI_GS_SYS_STOP = 1, FXI_GS_SYS_SUSPEND };

/* GO: what to run in the suspended server. */
typedef struct fxi_gs_go {
    void (*get)(void *state, void *arg);
    void *(*replace)(void *state, void *arg);
    void *arg;
} fxi_gs_go;

/* The init ACK, a reply on the start's ref. */
typedef struct fxi_gs_ack {
    uint32_t magic; /* FXI_GS_ACK_MAGIC: tells an ACK from a call's reply */
    int32_t status; /* 0, FX_EIGNORE or FX_EEXIST (name taken) */
    fx_pid holder;  /* FX_EEXIST: who has the name */
} fxi_gs_ack;
#define FXI_GS_ACK_MAGIC 0x67734b41u

/* fx_gs_ret.op */
enum {
    FXI_GS_OK = 1,
    FXI_GS_IGNORE,
    FXI_GS_NOREPLY,
    FXI_GS_REPLY,
    FXI_GS_STOP,
    FXI_GS_BAD_TIMEOUT, /* fx_gs_with_timeout with a negative ms: stops */
};
/* fx_gs_ret.flags */
/* FXI_GS_F_REPLY: a stop from fx_gs_stop_reply, a handle_call answer
 * only (bad_return_value elsewhere, as OTP's {stop, R, Reply, S}). */
enum { FXI_GS_F_TIMEOUT = 1, FXI_GS_F_CONTINUE = 2, FXI_GS_F_REPLY = 4 };

/* A server's instance: the actor's inline state (fx_spawn_opts.state_size),
 * touched only by the server's own handlers and its cleanup callback. */
typedef struct fxi_gs {
    const fx_gs_ops *ops;
    void *state; /* the user's */
    void *arg;   /* for init */
    fx_vm *vm;   /* for terminate, which has no ctx */
    fx_pid starter;
    fx_pid parent;      /* the starter of a linked server, else none */
    fx_from call;       /* the call being handled, for fx_gs_reply */
    fx_msg *stop_reply; /* fx_gs_stop_reply's data, sent after terminate */
    fx_from stop_to;    /* ... to this caller */
    int64_t timeout_ms; /* the pending fx_gs_with_timeout, or -1 */
    bool init_called;   /* from then on terminate runs exactly once */
    bool terminated;
    char name[FX_NAME_MAX]; /* fx_gs_spec.name, copied; "" = none */
    fx_from start_from;     /* the starter, while the name is registered */
    fx_reqids *reqs;        /* calls from callbacks in flight, NULL = none yet */
} fxi_gs;

/* gen_statem.c: the callbacks a machine runs its GenServer with (a
 * machine's state is the library's, not the user's: no get_state). */
extern const fx_gs_ops fxi_sm_gs_ops;

/* gen_server_loop.c: the server. */
fx_next fxi_gs_init(fx_ctx *cx, void *unused);
void fxi_gs_cleanup(void *inst, const fx_reason *reason);
fx_next fxi_gs_loop(fx_ctx *cx, fx_msg *m);
/* Carries out a callback's answer. */
fx_next fxi_gs_after(fx_ctx *cx, fxi_gs *g, fx_gs_ret r);
/* Terminates (once), sends a pending stop reply, stops. */
fx_next fxi_gs_stop_now(fx_ctx *cx, fxi_gs *g, fx_reason reason);
/* Back to the loop after something that was not a callback (a system
 * request), re-arming a pending timeout. */
fx_next fxi_gs_resume(fx_ctx *cx, fxi_gs *g);

/* Runs the user's init for the start `starter` and answers it. */
fx_next fxi_gs_run_init(fx_ctx *cx, fxi_gs *g, fx_from starter);
/* A failed start: unlinks a linked starter, stops with reason. */
fx_next fxi_gs_init_failed(fx_ctx *cx, fxi_gs *g, fx_reason reason);

/* gen_server_name.c: servers started with a name. */
/* NULL or a valid name. */
bool fxi_gs_name_ok(const char *name);
/* Copies spec's name (or none) into the instance. */
void fxi_gs_copy_name(fxi_gs *g, const char *name);
/* Registers the server under g->name, then runs fxi_gs_run_init; a
 * taken name is answered with an FX_EEXIST ACK and a normal exit. */
fx_next fxi_gs_register_name(fx_ctx *cx, fxi_gs *g, fx_from starter);

/* gen_server_then.c: calls from callbacks. For a message that may be the
 * answer to one (g->reqs set): FX_RESPONSE with *r, the continuation's
 * answer; FX_RESPONSE_STALE (drop it); FX_NO_RESPONSE (handle it as
 * usual). */
int fxi_gs_then_dispatch(fx_ctx *cx, fxi_gs *g, fx_msg *m, fx_gs_ret *r);

/* gen_server_sys.c: the server's side of system requests. */
fx_next fxi_gs_sys(fx_ctx *cx, fxi_gs *g, fx_msg *m);

/* proc_start.c: the start handshake (above), shared by GenServer and
 * Supervisor, like OTP's proc_lib. `o` describes a process whose first
 * step waits for START from its starter and answers it with an ACK.
 * timeout_ms: FX_INFINITY or >= 0. The outcome is decoded as
 * fx_gs_start_result / fx_gs_start's return value. */
int fxi_proc_start_inbox(fx_inbox *inbox, const fx_spawn_opts *o, bool link,
                         int64_t timeout_ms, fx_pid *out, fx_reason *why);
fx_next fxi_proc_start_async(fx_ctx *cx, const fx_spawn_opts *o, bool link,
                             int64_t timeout_ms, fx_handler then);
/* The process side: answers START (start = that message's from/ref) with
 * status 0, FX_EIGNORE, or FX_EEXIST with the name's holder (else
 * FX_PID_NONE). 0 also when the starter has died (nobody to tell), else
 * fx_reply's error. */
int fxi_proc_ack(fx_ctx *cx, fx_from start, int status, fx_pid holder);
/* Hands `then` an outcome "started: pid" at once (fx_child_actor). */
fx_next fxi_proc_started_async(fx_ctx *cx, fx_pid pid, fx_handler then);

/* gen_server_call.c: shared client helpers. */
/* FX_EWOULDBLOCK when the calling thread is a scheduler thread, else 0. */
int fxi_gs_check_thread(fx_inbox *inbox);
/* Decodes a DOWN: FX_ENOPROC for noproc, else FX_EEXIT and *why. */
int fxi_gs_down(const fx_msg *down, fx_reason *why);
/* Delivers rc to the running actor's own `then` as an FXI_GS_FAIL, for an
 * async operation that failed before it started. */
fx_next fxi_gs_fail_async(fx_ctx *cx, int rc, fx_handler then);
/* The error an FXI_GS_FAIL message carries. */
int fxi_gs_fail_rc(const fx_msg *m);
/* fx_gs_call / fx_gs_call_async without the max_msg_size check of the
 * payload: for the runtime's own requests (registry writes, supervisor
 * calls), whose size the application does not choose. */
int fxi_gs_call(fx_inbox *inbox, fx_pid server, uint32_t type, const void *data,
                size_t size, int64_t timeout_ms, fx_msg **reply, fx_reason *why);
fx_next fxi_gs_call_async(fx_ctx *cx, fx_pid server, uint32_t type, const void *data,
                          size_t size, int64_t timeout_ms, fx_handler then);
/* A message with an envelope header and size bytes of data after it. */
int fxi_gs_envelope(uint32_t kind, uint32_t type, const void *data, size_t size,
                    fx_msg **out);

#endif
