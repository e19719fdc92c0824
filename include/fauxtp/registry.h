/* fauxtp: the name registry and process groups (Erlang's register,
 * whereis and pg).
 *
 * Each VM has one registry, an ordinary GenServer under the VM's kernel
 * supervisor, both started on the first write.
 * Writes (register, unregister, join, leave) are calls to it, so they
 * are ordered and the registry can monitor every pid it knows: a process
 * that dies loses its name and leaves its groups when the registry gets
 * its DOWN. Reads (whereis, registered, group members, send by name) never
 * touch its mailbox: they read a lock-free hash table whose only writer
 * is the registry, from any thread. See docs/registry.md.
 *
 * If the registry itself dies, every name and group dies with it, as in
 * Erlang; the kernel supervisor restarts it, empty. */
#ifndef FAUXTP_REGISTRY_H
#define FAUXTP_REGISTRY_H

#include "gen_server.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Size of a name buffer, NUL included: a name (or group name) is 1 to
 * FX_NAME_MAX - 1 bytes, any bytes but NUL, compared bytewise. An empty,
 * NULL or longer name is FX_EINVAL everywhere below. */
#define FX_NAME_MAX 64

/* How long (ms) a write waits for the registry to start and answer. */
#define FX_REGISTRY_TIMEOUT 5000

/* --- Names: writes --------------------------------------------------------
 *
 * Errors shared by the writes: FX_EINVAL (bad name, empty pid, NULL
 * inbox/cx), FX_ETIMEDOUT (no answer within FX_REGISTRY_TIMEOUT),
 * FX_EEXIT (the registry died during the request and the retry failed
 * too), FX_ESHUTDOWN (the VM is shutting down), FX_ENOMEM. */

/* Registers pid under name and waits for the answer. One name per pid
 * and one pid per name (Erlang's rule). Returns 0; FX_EEXIST when the
 * name is taken or pid already has a name (*holder, may be NULL, is then
 * the name's holder, or pid itself when it is pid that has a name);
 * FX_ENOPROC when pid is not alive. The name is freed when pid exits
 * (at once for fx_whereis, fx_register and fx_unregister, as in
 * Erlang; the registry's own record goes when it handles the DOWN).
 * FX_EWOULDBLOCK on a scheduler thread (use fx_register_async). The
 * inbox's owner thread. */
FX_API int fx_register(fx_inbox *inbox, const char *name, fx_pid pid, fx_pid *holder);

/* Removes name, whoever holds it. 0, or FX_ENOENT if it is not
 * registered (or its holder has exited). Thread and errors as fx_register. */
FX_API int fx_unregister(fx_inbox *inbox, const char *name);

/* The same from inside a handler, without blocking: returns the
 * continuation that waits for the answer; `then` gets a message it must
 * decode with fx_registry_result (other messages stay queued meanwhile).
 * Register the running process with fx_register_async(cx, name,
 * fx_self(cx), then). name is copied. A request that cannot be made
 * (bad name...) reaches `then` as that error. Inside a handler only (a
 * GenServer callback cannot wait: give the server a name with
 * fx_gs_spec.name instead). */
FX_API fx_next fx_register_async(fx_ctx *cx, const char *name, fx_pid pid,
                                 fx_handler then);
FX_API fx_next fx_unregister_async(fx_ctx *cx, const char *name, fx_handler then);

/* In `then` of any *_async write: the answer, as the blocking form
 * returns it (0, FX_EEXIST with *holder, FX_ENOPROC, FX_ENOENT,
 * FX_ETIMEDOUT, FX_EEXIT, ...), or FX_EINVAL for a message that is not a
 * registry answer. Ends the request. holder may be NULL. */
FX_API int fx_registry_result(fx_ctx *cx, fx_msg *msg, fx_pid *holder);

/* --- Names: reads (any thread, lock-free) ---------------------------------- */

/* The pid registered under name: 0 and *out, or FX_ENOENT. A holder
 * that has exited has no name (FX_ENOENT), as in Erlang, even before the
 * registry has freed the name for fx_register; a holder that exits right
 * after the answer makes it a dead pid (a send to it answers FX_ENOPROC,
 * as any send to a dead pid). Never starts the registry. Errors: FX_EINVAL (NULL vm/out,
 * bad name), FX_ENOMEM (first read on this thread: its read record). Any thread. */
FX_API int fx_whereis(fx_vm *vm, const char *name, fx_pid *out);

/* One registered name. */
typedef struct fx_registered_name {
    char name[FX_NAME_MAX]; /* NUL-terminated */
    fx_pid pid;
} fx_registered_name;

/* Snapshot of the registered names: fills out[0..cap) (caller-owned; out
 * may be NULL when cap is 0) and returns how many names there are, which
 * may exceed cap (call again with a bigger array). Names registered or
 * unregistered during the call may or may not be included. When the
 * array holds them all, a name whose holder has exited is left out, as
 * fx_whereis answers FX_ENOENT for it (Erlang's registered/0), even before
 * the registry has freed it; when it is too small, the names copied and
 * the count (above cap) are taken without that check. Errors:
 * FX_EINVAL (NULL vm; out NULL with cap > 0), FX_ENOMEM. Any thread. */
FX_API int fx_registered(fx_vm *vm, fx_registered_name *out, size_t cap);

/* --- Sending and calling by name ------------------------------------------ */

/* whereis + fx_send / fx_vm_send: FX_ENOENT when no process is registered
 * under name (nothing sent; also when the holder has exited); otherwise as
 * the send (FX_ENOPROC when the holder exits between the lookup and the
 * send: the message is dropped). fx_send_named: inside a
 * handler only; fx_vm_send_named: any thread, FX_ESHUTDOWN when the VM is
 * not running (fx_vm_running), FX_EFORKED in a forked child (vm.h). */
FX_API int fx_send_named(fx_ctx *cx, const char *name, uint32_t type, const void *data,
                         size_t size);
FX_API int fx_vm_send_named(fx_vm *vm, const char *name, uint32_t type, const void *data,
                            size_t size);

/* fx_gs_call / fx_gs_call_async / fx_gs_cast / fx_vm_gs_cast on the
 * GenServer registered under name; FX_ENOENT when there is none (for the
 * async call, delivered to `then`); from outside the VM, FX_ESHUTDOWN
 * when it is not running, FX_EFORKED in a forked child (vm.h). Threads
 * as the calls they wrap: fx_gs_call_named on a scheduler thread answers
 * FX_EWOULDBLOCK before it looks at the name or the VM (the thread is the
 * mistake, whatever the name). */
FX_API int fx_gs_call_named(fx_inbox *inbox, const char *name, uint32_t type,
                            const void *data, size_t size, int64_t timeout_ms,
                            fx_msg **reply, fx_reason *why);
FX_API fx_next fx_gs_call_named_async(fx_ctx *cx, const char *name, uint32_t type,
                                      const void *data, size_t size, int64_t timeout_ms,
                                      fx_handler then);
FX_API int fx_gs_cast_named(fx_ctx *cx, const char *name, uint32_t type, const void *data,
                            size_t size);
FX_API int fx_vm_gs_cast_named(fx_vm *vm, const char *name, uint32_t type,
                               const void *data, size_t size);

/* --- Spawning with a name -------------------------------------------------- */

/* Spawns an actor (opts as fx_spawn_opt) that registers itself under
 * name before any of its own code runs: its init (or first handler) runs
 * only once the name is its. Returns at once with *out (may be NULL);
 * the name is visible a little later. If the name cannot be registered
 * (taken: FX_EEXIST; or any write error), the process exits without
 * running opts' init or handler, with reason {error, rc, "register:
 * <fx_strerror(rc)>"} (a crash report is logged), and opts' cleanup runs
 * as for any exit. With monitor
 * non-NULL the caller monitors it from the start (fx_spawn_monitor), so
 * that exit is seen. Errors: those of fx_spawn_opt, FX_EINVAL for a bad
 * name. name and opts are copied. Inside a handler only. */
FX_API int fx_spawn_named(fx_ctx *cx, const char *name, const fx_spawn_opts *opts,
                          fx_pid *out, fx_ref *monitor);

/* The same from a thread outside the VM, waiting until the process is
 * registered: 0 and *out; FX_EEXIST with *holder (may be NULL) when the
 * name is taken (the process exits with reason normal without running
 * opts' code); other errors as fx_register and fx_vm_spawn_opt. The
 * inbox's owner thread. */
FX_API int fx_inbox_spawn_named(fx_inbox *inbox, const char *name,
                                const fx_spawn_opts *opts, fx_pid *out, fx_pid *holder);

/* --- Process groups (Erlang's pg) ------------------------------------------
 *
 * A group is a name (same rules as process names, separate namespace)
 * with a set of member pids; a pid may be in many groups. A group exists
 * while it has members. A member that exits leaves all its groups when
 * the registry gets its DOWN. */

/* Adds pid to group: 0; FX_EEXIST if it is already a member; FX_ENOPROC
 * if pid is not alive. Thread and other errors as fx_register. */
FX_API int fx_group_join(fx_inbox *inbox, const char *group, fx_pid pid);
/* Removes pid from group: 0, or FX_ENOENT if it was not a member. */
FX_API int fx_group_leave(fx_inbox *inbox, const char *group, fx_pid pid);
/* From inside a handler; decode the answer with fx_registry_result. */
FX_API fx_next fx_group_join_async(fx_ctx *cx, const char *group, fx_pid pid,
                                   fx_handler then);
FX_API fx_next fx_group_leave_async(fx_ctx *cx, const char *group, fx_pid pid,
                                    fx_handler then);

/* Snapshot of group's members (a consistent one: the set as of one
 * write), in join order: fills out[0..cap) (caller-owned) and returns the
 * number of members (0 for an unknown group), which may exceed cap.
 * Errors: FX_EINVAL, FX_ENOMEM. Any thread, lock-free. */
FX_API int fx_group_members(fx_vm *vm, const char *group, fx_pid *out, size_t cap);

/* Sends a copy of (type, data, size) to every member of group, as
 * fx_send / fx_vm_send would: returns how many members it was delivered
 * to (members that have just died are skipped), 0 for an unknown or
 * empty group, or an error of the send (FX_EINVAL, FX_EMSGSIZE,
 * FX_ENOMEM, FX_ESHUTDOWN), after which the remaining members get
 * nothing. fx_group_send: inside a handler only; fx_vm_group_send: any
 * thread, FX_ESHUTDOWN (not 0) when the VM is not running, FX_EFORKED in
 * a forked child (vm.h). */
FX_API int fx_group_send(fx_ctx *cx, const char *group, uint32_t type, const void *data,
                         size_t size);
FX_API int fx_vm_group_send(fx_vm *vm, const char *group, uint32_t type, const void *data,
                            size_t size);

/* --- The registry process ---------------------------------------------------- */

/* The pid of vm's running registry: 0 and *out, or FX_ENOENT when none
 * runs (never used; died and not yet restarted by the kernel supervisor;
 * or that supervisor gave up and no write has started a new tree yet).
 * For tests and operators. FX_EINVAL for NULL arguments; FX_EFORKED in a
 * forked child (vm.h). Any thread. */
FX_API int fx_registry_pid(fx_vm *vm, fx_pid *out);

/* What a running registry holds, for tests and operators. */
typedef struct fx_registry_stats {
    uint64_t names;   /* registered names */
    uint64_t groups;  /* groups (each has members) */
    uint64_t retired; /* objects unlinked since it started: entries, member
                         arrays, replaced hash maps */
    uint64_t pending; /* of those, not freed yet: a read section that
                         began before the unlink may still see them */
} fx_registry_stats;

/* Asks the running registry (a call; it does not start one) and waits
 * for the answer. 0; FX_ENOENT when none runs; FX_EWOULDBLOCK on a
 * scheduler thread (checked first: also when no registry runs);
 * FX_EINVAL (NULL inbox or out); FX_EFORKED in a forked child (vm.h);
 * errors of fx_gs_call. The inbox's owner thread. */
FX_API int fx_registry_stats_get(fx_inbox *inbox, fx_registry_stats *out);

#ifdef __cplusplus
}
#endif
#endif
