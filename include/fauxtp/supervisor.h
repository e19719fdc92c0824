/* fauxtp: Supervisor, the supervision behaviour (Erlang's supervisor and
 * DynamicSupervisor).
 *
 * A supervisor is an ordinary actor that traps exits. It starts its
 * children in order, each linked to it, and every restart decision is
 * driven by the EXIT messages their deaths put in its mailbox: the same
 * message path as everything else. Too many restarts within a period and
 * it gives up: it stops its children and exits with
 * {shutdown,"reached_max_restart_intensity"}, so its own supervisor
 * decides (escalation). fx_gs_stop_server stops a supervisor in order
 * (its children first, in reverse start order). See docs/supervision.md. */
#ifndef FAUXTP_SUPERVISOR_H
#define FAUXTP_SUPERVISOR_H

#include "gen_server.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A child's restart type. */
typedef enum fx_restart {
    FX_PERMANENT = 0, /* always restarted */
    FX_TRANSIENT,     /* restarted only after an abnormal exit (not normal,
                         shutdown or {shutdown,...}) */
    FX_TEMPORARY,     /* never restarted; forgotten once it exits */
} fx_restart;

typedef enum fx_child_type {
    FX_WORKER = 0,
    FX_SUPERVISOR_CHILD, /* a supervisor: its default shutdown is infinity */
} fx_child_type;

/* fx_child_spec.shutdown_ms: 0 = the default (5000 ms for a worker,
 * FX_INFINITY for a supervisor child); FX_INFINITY = wait as long as it
 * takes; FX_SHUTDOWN_BRUTAL_KILL = kill at once, without asking; > 0 =
 * send exit reason shutdown, wait that long, then kill. */
#define FX_SHUTDOWN_BRUTAL_KILL (-2)

/* Longest child id, NUL included. */
#define FX_CHILD_ID_MAX 32

/* A child start function. Called inside the supervisor (a handler), it
 * starts one child LINKED to the calling process, without blocking, and
 * returns the continuation that waits for the outcome; `then` must get a
 * message that fx_gs_start_result decodes. fx_gs_start_async (with link),
 * fx_sup_start_async (with link) and the fx_child_* starters below do
 * exactly that; a custom start function ends by calling one of them.
 * (The supervisor also links to each child once it has started, so a
 * child started without a link is still supervised.)
 * `arg` is the child spec's; `extra`/`extra_size` are a dynamic child's
 * start arguments (NULL/0 otherwise), owned by the supervisor and valid
 * until the child is removed from it. The ready-made starters below hand
 * `then` FX_EINVAL for a NULL arg. */
typedef fx_next (*fx_child_start_fn)(fx_ctx *cx, void *arg, const void *extra,
                                     size_t extra_size, fx_handler then);

/* A child specification. Plain value: copied by the supervisor. */
typedef struct fx_child_spec {
    char id[FX_CHILD_ID_MAX]; /* unique among a supervisor's children; not
                                 empty (unused by dynamic supervisors) */
    fx_child_start_fn start;  /* required */
    /* Passed to start; borrowed: must outlive the supervisor (a static or
     * long-lived object). Set `arg`, or `carg` to point at a const object
     * (a static const spec, no cast needed): one storage, the start
     * function gets it as its arg either way and must not write through
     * a pointer that was given as carg (the ready-made starters below
     * never write). */
    union {
        void *arg;
        const void *carg;
    };
    int32_t restart;     /* fx_restart */
    int32_t type;        /* fx_child_type */
    int64_t shutdown_ms; /* see FX_SHUTDOWN_BRUTAL_KILL */
    /* With auto_shutdown, the exit of a significant child (transient or
     * temporary only) may stop the supervisor. Invalid (FX_EINVAL) under a
     * supervisor whose auto_shutdown is never, as in OTP. */
    bool significant;
} fx_child_spec;

/* --- Ready-made start functions (fx_child_start_fn) --------------------- */

/* arg: a const fx_gs_spec * (its link field is ignored: always linked).
 * A dynamic child's extra is ignored: write your own start function that
 * builds a spec from it and calls fx_gs_start_async. */
FX_API fx_next fx_child_gen_server(fx_ctx *cx, void *arg, const void *extra,
                                   size_t extra_size, fx_handler then);
/* arg: a const fx_sup_spec * (a nested supervisor; link forced). */
FX_API fx_next fx_child_supervisor(fx_ctx *cx, void *arg, const void *extra,
                                   size_t extra_size, fx_handler then);
/* arg: a const fx_spawn_opts * (a plain actor, spawned linked; it counts as
 * started at once). For a dynamic child with extra, the actor's init_arg is
 * the supervisor's copy of extra instead of opts->init_arg. */
FX_API fx_next fx_child_actor(fx_ctx *cx, void *arg, const void *extra, size_t extra_size,
                              fx_handler then);

/* --- Supervisor specification -------------------------------------------- */

typedef enum fx_sup_strategy {
    FX_ONE_FOR_ONE = 0,    /* restart the child that exited */
    FX_ONE_FOR_ALL,        /* stop all the others (reverse order), restart all */
    FX_REST_FOR_ONE,       /* the same for the children started after it */
    FX_SIMPLE_ONE_FOR_ONE, /* dynamic: one template, children added with
                              fx_sup_start_child_args, restarted one by one */
} fx_sup_strategy;

typedef enum fx_auto_shutdown {
    FX_AUTO_SHUTDOWN_NEVER = 0,
    FX_AUTO_SHUTDOWN_ANY_SIGNIFICANT, /* when any significant child exits */
    FX_AUTO_SHUTDOWN_ALL_SIGNIFICANT, /* when the last one has (one being restarted has
                                         not) */
} fx_auto_shutdown;

typedef struct fx_sup_spec {
    int32_t strategy;      /* fx_sup_strategy */
    int32_t intensity;     /* restarts allowed per period (>= 0) */
    int64_t period_ms;     /* the sliding window (> 0) */
    int32_t auto_shutdown; /* fx_auto_shutdown (not for dynamic ones) */
    uint32_t max_children; /* dynamic: at most this many; 0 = no limit */
    /* Static supervisors: the children, started in this order. Dynamic
     * ones: exactly one, the template (its id may be empty). Copied. */
    const fx_child_spec *children;
    size_t nchildren;
    bool link;          /* link the supervisor to its starter */
    int64_t timeout_ms; /* for the whole start; 0 = FX_INFINITY */
    const char *label;  /* crash-report label (a literal); NULL = "supervisor" */
    /* Optional registered name (copied; 1 to FX_NAME_MAX - 1 bytes, see
     * registry.h), as fx_gs_spec.name: the supervisor registers itself
     * before it starts its children, so fx_whereis and the *_named calls
     * below find it once the start returns; the name is freed when it
     * exits. A taken name makes the start fail with FX_EEXIST (*out, if
     * given, gets the holder) and the supervisor exits normally without
     * starting a child. A restarted supervisor (a child spec with
     * fx_child_supervisor) registers again. */
    const char *name;
} fx_sup_spec;

/* Zeroes *spec and sets OTP's defaults: one_for_one, intensity 1 in a
 * period of 5000 ms, auto_shutdown never. Any thread. */
FX_API void fx_sup_spec_init(fx_sup_spec *spec);

/* --- Starting ------------------------------------------------------------ */

/* Starts a supervisor from a thread outside the VM and waits until every
 * child has started, in order. A child that fails to start (error, crash,
 * timeout) makes the supervisor stop the children already started (reverse
 * order) and exit; the start then returns FX_EEXIT with *why =
 * {shutdown,"failed_to_start_child <id> <why>"}, <why> being the child's
 * exit reason or start error (FX_E... name), truncated to fit. A child whose start
 * answers ignore is kept, not running, unless it is FX_TEMPORARY (then it is
 * not kept, as in OTP). Returns 0 and *out; FX_EINVAL (bad spec: duplicate
 * or empty id, no start function, bad enum, period <= 0, intensity < 0, significant
 * permanent child, a significant child with auto_shutdown never, a dynamic supervisor
 * without exactly one template or with auto_shutdown, more than 512 children: add more
 * with start_child); FX_EEXIT; FX_ETIMEDOUT; FX_EWOULDBLOCK on a scheduler thread;
 * FX_ENOMEM, FX_EFULL, FX_ESHUTDOWN. The spec is copied. The inbox's owner thread. */
FX_API int fx_sup_start(fx_inbox *inbox, const fx_sup_spec *spec, fx_pid *out,
                        fx_reason *why);
/* The same from inside a handler, without blocking: `then` gets the
 * outcome, decoded with fx_gs_start_result. Errors as fx_sup_start. With
 * spec->link, a supervisor that fails to start exits still linked (OTP
 * 25): a starter not trapping exits dies with the reason. */
FX_API fx_next fx_sup_start_async(fx_ctx *cx, const fx_sup_spec *spec, fx_handler then);

/* --- Calls on a running supervisor ---------------------------------------
 * All are GenServer calls on the supervisor actor (the supervisor answers
 * them between restarts). The blocking forms below take the caller's
 * inbox (the inbox's owner thread only, never a scheduler thread) and a
 * timeout (FX_INFINITY allowed) and may also return the
 * errors of fx_gs_call (FX_ENOPROC, FX_EEXIT, FX_ETIMEDOUT,
 * FX_EWOULDBLOCK...). Every one answers FX_EINVAL for a NULL inbox, a
 * NULL id or one of FX_CHILD_ID_MAX bytes or more, a NULL out where a
 * result is required (count_children; which_children with cap > 0).
 * From a handler, use fx_gs_call_async with the request types and
 * payloads below and decode the reply with fx_sup_reply_decode. */

/* Request types (for fx_gs_call / fx_gs_call_async) and their payloads. */
#define FX_SUP_START_CHILD 1      /* fx_child_spec */
#define FX_SUP_START_CHILD_ARGS 2 /* dynamic: the extra bytes (may be empty) */
#define FX_SUP_TERMINATE_CHILD 3  /* fx_sup_child_ref */
#define FX_SUP_RESTART_CHILD 4    /* fx_sup_child_ref (id) */
#define FX_SUP_DELETE_CHILD 5     /* fx_sup_child_ref (id) */
#define FX_SUP_WHICH_CHILDREN 6   /* none; reply: fx_sup_reply + fx_child_info[] */
#define FX_SUP_COUNT_CHILDREN 7   /* none; reply: fx_sup_reply + fx_child_counts */

/* Names a child: by id (static supervisors), or by pid (dynamic ones,
 * where id is empty). */
typedef struct fx_sup_child_ref {
    char id[FX_CHILD_ID_MAX];
    fx_pid pid;
} fx_sup_child_ref;

/* Every reply starts with this. */
typedef struct fx_sup_reply {
    int32_t rc;       /* 0 or an FX_E* code */
    uint32_t count;   /* which_children: entries that follow */
    fx_pid pid;       /* start/restart: the child */
    fx_reason reason; /* rc == FX_EEXIT: why the child failed to start */
} fx_sup_reply;

/* Decodes a supervisor's reply (from fx_gs_call / fx_gs_call_result):
 * copies its header into *out and returns out->rc, or FX_EINVAL for data
 * that is not a supervisor reply. *rest and *rest_size (may be NULL) get what
 * follows the header. Any thread. */
FX_API int fx_sup_reply_decode(const void *data, size_t size, fx_sup_reply *out,
                               const void **rest, size_t *rest_size);

/* Adds a child to a static supervisor and starts it (FX_EEXIST: the id is
 * taken, by a running child or a stopped one kept for restart_child;
 * FX_EINVAL: bad spec, or a dynamic supervisor; FX_EEXIT with *why: its
 * start failed, and it was not added; FX_EIGNORE: its start answered
 * ignore, it was added, not running, unless it is FX_TEMPORARY: then it
 * was not added, as in OTP). 0 and *out (may be NULL). */
FX_API int fx_sup_start_child(fx_inbox *inbox, fx_pid sup, const fx_child_spec *spec,
                              int64_t timeout_ms, fx_pid *out, fx_reason *why);
/* Dynamic supervisors: starts a child from the template with extra bytes
 * (copied, kept for its restarts). FX_ELIMIT: max_children reached;
 * FX_EINVAL: not a dynamic supervisor; FX_EEXIT with *why; FX_EIGNORE. */
FX_API int fx_sup_start_child_args(fx_inbox *inbox, fx_pid sup, const void *extra,
                                   size_t extra_size, int64_t timeout_ms, fx_pid *out,
                                   fx_reason *why);
/* Stops a child as its shutdown says. Static: by id, the spec is kept
 * (restart_child starts it again) unless it is temporary. Dynamic: by pid,
 * and it is removed. FX_ENOENT: no such child. */
FX_API int fx_sup_terminate_child(fx_inbox *inbox, fx_pid sup, const char *id,
                                  int64_t timeout_ms);
FX_API int fx_sup_terminate_pid(fx_inbox *inbox, fx_pid sup, fx_pid child,
                                int64_t timeout_ms);
/* Starts again a stopped child kept by terminate_child (static only).
 * FX_EEXIST: it is running; FX_ENOENT: no such id; FX_EEXIT / FX_EIGNORE
 * as start_child. */
FX_API int fx_sup_restart_child(fx_inbox *inbox, fx_pid sup, const char *id,
                                int64_t timeout_ms, fx_pid *out, fx_reason *why);
/* Forgets a stopped child (static only). FX_EEXIST: it is running;
 * FX_ENOENT: no such id. */
FX_API int fx_sup_delete_child(fx_inbox *inbox, fx_pid sup, const char *id,
                               int64_t timeout_ms);

typedef enum fx_child_status {
    FX_CHILD_RUNNING = 1,
    FX_CHILD_UNDEFINED,  /* not running (terminated, or its start ignored) */
    FX_CHILD_RESTARTING, /* its restart failed and is being retried */
} fx_child_status;

typedef struct fx_child_info {
    char id[FX_CHILD_ID_MAX];
    fx_pid pid;     /* FX_PID_NONE unless running */
    int32_t type;   /* fx_child_type */
    int32_t status; /* fx_child_status */
} fx_child_info;

/* The children in start order: fills up to cap entries of out and returns
 * how many children there are (may be more than cap), or an error. */
FX_API int fx_sup_which_children(fx_inbox *inbox, fx_pid sup, fx_child_info *out,
                                 size_t cap, int64_t timeout_ms);

typedef struct fx_child_counts {
    uint32_t specs;       /* children known (running or not) */
    uint32_t active;      /* running */
    uint32_t supervisors; /* specs of type supervisor */
    uint32_t workers;     /* specs of type worker */
} fx_child_counts;

/* Fills *out with the supervisor's counts (OTP's count_children). Threads
 * and errors: "Calls on a running supervisor", above. */
FX_API int fx_sup_count_children(fx_inbox *inbox, fx_pid sup, fx_child_counts *out,
                                 int64_t timeout_ms);

/* --- The same calls by registered name ------------------------------------
 * The supervisor is the process registered under `name` (fx_sup_spec.name,
 * or any fx_register), looked up with fx_whereis at the call. Errors:
 * FX_ENOPROC when no process has the name (OTP: exit noproc), FX_EINVAL
 * for a NULL or bad name, else as the pid forms above. Threads: those of
 * the pid forms. */
FX_API int fx_sup_start_child_named(fx_inbox *inbox, const char *name,
                                    const fx_child_spec *spec, int64_t timeout_ms,
                                    fx_pid *out, fx_reason *why);
FX_API int fx_sup_start_child_args_named(fx_inbox *inbox, const char *name,
                                         const void *extra, size_t extra_size,
                                         int64_t timeout_ms, fx_pid *out, fx_reason *why);
FX_API int fx_sup_terminate_child_named(fx_inbox *inbox, const char *name, const char *id,
                                        int64_t timeout_ms);
FX_API int fx_sup_terminate_pid_named(fx_inbox *inbox, const char *name, fx_pid child,
                                      int64_t timeout_ms);
FX_API int fx_sup_restart_child_named(fx_inbox *inbox, const char *name, const char *id,
                                      int64_t timeout_ms, fx_pid *out, fx_reason *why);
FX_API int fx_sup_delete_child_named(fx_inbox *inbox, const char *name, const char *id,
                                     int64_t timeout_ms);
FX_API int fx_sup_which_children_named(fx_inbox *inbox, const char *name,
                                       fx_child_info *out, size_t cap,
                                       int64_t timeout_ms);
FX_API int fx_sup_count_children_named(fx_inbox *inbox, const char *name,
                                       fx_child_counts *out, int64_t timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
