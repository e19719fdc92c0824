/* fauxtp for C++ (C++11 and later): adapters that keep C++ exceptions on
 * the C++ side of a callback, and a C++ way to crash. See docs/cxx.md.
 *
 * fauxtp is a C library: an exception must never unwind through its
 * frames. Every callback you write in C++ (a handler, an init function, a
 * cleanup, GenServer callbacks) goes through one of the adapters below,
 * which catch every exception at the boundary, after the callback's
 * frames were unwound (so destructors have run), and turn it into the
 * actor's exit with an error reason:
 *   - fx::crash_error (thrown by fx::crash): its reason, exactly;
 *   - a std::exception: {error, FX_ECRASHED, "<what()> [<type>]"};
 *   - anything else: {error, FX_ECRASHED, "C++ exception [<type>]"}
 * (text truncated to FX_REASON_TEXT_MAX - 1 bytes). Linked and monitoring
 * processes see that reason, a supervisor restarts the child, and a crash
 * report is logged, as for fx_crash.
 *
 * Do not call fx_crash from C++ code while objects with destructors are
 * live: it longjmps to the scheduler and skips them. Throw (fx::crash)
 * instead. An exception escaping a callback that no adapter wraps is
 * undefined behaviour; see docs/cxx.md for what happens in practice.
 *
 * Threads: as the callbacks they wrap. Every adapter is noexcept. */
#ifndef FAUXTP_FAUXTP_HPP
#define FAUXTP_FAUXTP_HPP

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <typeinfo>

#include "fauxtp.h"

#if defined(__GLIBCXX__) || defined(_LIBCPP_VERSION)
#include <cxxabi.h>
#define FX_CXX_HAVE_CXXABI 1
#endif

namespace fx
{

/* What fx::crash throws: carries the exact exit reason. */
class crash_error : public std::exception
{
  public:
    explicit crash_error(const fx_reason &reason) noexcept : reason_(reason) {}
    const char *what() const noexcept override
    {
        return reason_.text;
    }
    const fx_reason &reason() const noexcept
    {
        return reason_;
    }

  private:
    fx_reason reason_;
};

/* Crash the running actor, C++ style: throws crash_error, so the frames
 * between here and the adapter are unwound (destructors run) before the
 * actor exits with {error, FX_ECRASHED, text} (or with `reason`, or with
 * {error, code, text}). Inside a callback wrapped by an adapter only:
 * elsewhere it is an ordinary exception. */
[[noreturn]] inline void crash(const std::string &text)
{
    throw crash_error(fx_reason_error(FX_ECRASHED, "%s", text.c_str()));
}
[[noreturn]] inline void crash(int code, const std::string &text)
{
    throw crash_error(fx_reason_error(code, "%s", text.c_str()));
}
[[noreturn]] inline void crash(const fx_reason &reason)
{
    throw crash_error(reason);
}

namespace detail
{

/* The readable name of a type (demangled where the ABI allows). */
inline std::string type_name(const std::type_info *t)
{
    if (!t)
        return "unknown";
    std::string name = t->name();
#ifdef FX_CXX_HAVE_CXXABI
    int status = 0;
    char *d = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
    if (d) {
        if (status == 0)
            name = d;
        std::free(d);
    }
#endif
    return name;
}

/* The exit reason for the exception being handled. Call only inside a
 * catch block. Never throws. */
inline fx_reason current_reason() noexcept
{
    try {
        try {
            throw;
        } catch (const crash_error &e) {
            return e.reason();
        } catch (const std::exception &e) {
            return fx_reason_error(FX_ECRASHED, "%s [%s]", e.what(),
                                   type_name(&typeid(e)).c_str());
        } catch (...) {
#ifdef FX_CXX_HAVE_CXXABI
            return fx_reason_error(
                FX_ECRASHED, "C++ exception [%s]",
                type_name(abi::__cxa_current_exception_type()).c_str());
#else
            return fx_reason_error(FX_ECRASHED, "C++ exception");
#endif
        }
    } catch (...) { /* std::bad_alloc building the text */
        return fx_reason_error(FX_ECRASHED, "C++ exception");
    }
}

/* An exception where no actor can die of it any more (a cleanup or
 * terminate callback): said on stderr, never silently dropped. */
inline void report_late(const char *where) noexcept
{
    fx_reason r = current_reason();
    char text[FX_REASON_TEXT_MAX + 32];
    (void) fx_reason_format(&r, text, sizeof text);
    std::fprintf(stderr, "fauxtp: C++ exception in %s, ignored: %s\n", where, text);
}

} // namespace detail

/* --- Plain actors ---------------------------------------------------------
 * fx::handler<&f> is an fx_handler that calls f and, if f throws, stops
 * the actor with the exception's reason. fx::init<&f> the same for an
 * fx_init_fn; fx::cleanup<&f> for an fx_cleanup_fn (an exception there
 * is reported on stderr: the actor is already exiting). Wrap every
 * continuation you hand to fauxtp (fx_become, fx_receive, ...). */
template <fx_next (*F)(fx_ctx *, fx_msg *)>
fx_next handler(fx_ctx *cx, fx_msg *msg) noexcept
{
    fx_reason why;
    try {
        return F(cx, msg);
    } catch (...) {
        why = detail::current_reason();
    }
    return fx_stop(cx, why);
}

template <fx_next (*F)(fx_ctx *, void *)> fx_next init(fx_ctx *cx, void *arg) noexcept
{
    fx_reason why;
    try {
        return F(cx, arg);
    } catch (...) {
        why = detail::current_reason();
    }
    return fx_stop(cx, why);
}

template <void (*F)(void *, const fx_reason *)>
void cleanup(void *state, const fx_reason *reason) noexcept
{
    try {
        F(state, reason);
    } catch (...) {
        detail::report_late("a cleanup callback");
    }
}

/* --- GenServer callbacks, one by one (C-style ops) ------------------------
 * Each wraps the fx_gs_ops member of the same shape; an exception stops
 * the server with its reason (fx_gs_stop: terminate runs; a caller waiting
 * in handle_call gets FX_EEXIT with the reason; in init, the start fails
 * with FX_EEXIT). */
template <fx_gs_ret (*F)(fx_ctx *, void *, void **)>
fx_gs_ret gs_init(fx_ctx *cx, void *arg, void **state) noexcept
{
    fx_reason why;
    try {
        return F(cx, arg, state);
    } catch (...) {
        why = detail::current_reason();
    }
    return fx_gs_stop(cx, why);
}

template <fx_gs_ret (*F)(fx_ctx *, void *, fx_from, uint32_t, const void *, size_t)>
fx_gs_ret gs_call(fx_ctx *cx, void *state, fx_from from, uint32_t type, const void *data,
                  size_t size) noexcept
{
    fx_reason why;
    try {
        return F(cx, state, from, type, data, size);
    } catch (...) {
        why = detail::current_reason();
    }
    return fx_gs_stop(cx, why);
}

template <fx_gs_ret (*F)(fx_ctx *, void *, uint32_t, const void *, size_t)>
fx_gs_ret gs_cast(fx_ctx *cx, void *state, uint32_t type, const void *data,
                  size_t size) noexcept
{
    fx_reason why;
    try {
        return F(cx, state, type, data, size);
    } catch (...) {
        why = detail::current_reason();
    }
    return fx_gs_stop(cx, why);
}

template <fx_gs_ret (*F)(fx_ctx *, void *, fx_msg *)>
fx_gs_ret gs_info(fx_ctx *cx, void *state, fx_msg *msg) noexcept
{
    fx_reason why;
    try {
        return F(cx, state, msg);
    } catch (...) {
        why = detail::current_reason();
    }
    return fx_gs_stop(cx, why);
}

template <fx_gs_ret (*F)(fx_ctx *, void *, uint64_t)>
fx_gs_ret gs_continue(fx_ctx *cx, void *state, uint64_t cont) noexcept
{
    fx_reason why;
    try {
        return F(cx, state, cont);
    } catch (...) {
        why = detail::current_reason();
    }
    return fx_gs_stop(cx, why);
}

template <void (*F)(fx_vm *, void *, const fx_reason *)>
void gs_terminate(fx_vm *vm, void *state, const fx_reason *reason) noexcept
{
    try {
        F(vm, state, reason);
    } catch (...) {
        detail::report_late("a GenServer terminate callback");
    }
}

/* --- GenServer as a class -------------------------------------------------
 * Derive from fx::server, give the class a constructor (fx_ctx *, void
 * *arg) and override what you need; fx::gen_server_ops<T>() is the
 * fx_gs_ops to put in an fx_gs_spec (or a supervisor's child spec). The
 * object is the state: created with new in init (a constructor that
 * throws fails the start with the exception's reason), deleted after
 * terminate, whatever the exit (stop, crash, kill, VM shutdown), so its
 * members' destructors (std::string, containers) run. Every callback runs
 * on the server's scheduler thread, one at a time. */
class server
{
  public:
    virtual ~server() {}
    /* After construction: fx_gs_ok (default), fx_gs_ignore, fx_gs_stop... */
    virtual fx_gs_ret init(fx_ctx *cx)
    {
        return fx_gs_ok(cx);
    }
    /* Defaults as for a NULL callback in fx_gs_ops: a call or cast stops
     * the server with {error, FX_EINVAL, "no handle_call"} ("no
     * handle_cast"), other messages are dropped. */
    virtual fx_gs_ret handle_call(fx_ctx *cx, fx_from, uint32_t, const void *, size_t)
    {
        return fx_gs_stop(cx, fx_reason_error(FX_EINVAL, "no handle_call"));
    }
    virtual fx_gs_ret handle_cast(fx_ctx *cx, uint32_t, const void *, size_t)
    {
        return fx_gs_stop(cx, fx_reason_error(FX_EINVAL, "no handle_cast"));
    }
    virtual fx_gs_ret handle_info(fx_ctx *cx, fx_msg *)
    {
        return fx_gs_noreply(cx);
    }
    virtual fx_gs_ret handle_continue(fx_ctx *cx, uint64_t)
    {
        return fx_gs_stop(cx, fx_reason_error(FX_EINVAL, "no handle_continue"));
    }
    /* Before the object is deleted; no ctx (send with fx_vm_send only).
     * An exception here is reported on stderr. */
    virtual void terminate(fx_vm *, const fx_reason &) {}
};

namespace detail
{

template <class T> struct server_glue {
    static fx_gs_ret init(fx_ctx *cx, void *arg, void **state)
    {
        T *obj = new T(cx, arg);
        *state = static_cast<server *>(obj);
        return obj->init(cx);
    }
    static fx_gs_ret call(fx_ctx *cx, void *s, fx_from from, uint32_t type, const void *d,
                          size_t n)
    {
        return static_cast<server *>(s)->handle_call(cx, from, type, d, n);
    }
    static fx_gs_ret cast(fx_ctx *cx, void *s, uint32_t type, const void *d, size_t n)
    {
        return static_cast<server *>(s)->handle_cast(cx, type, d, n);
    }
    static fx_gs_ret info(fx_ctx *cx, void *s, fx_msg *m)
    {
        return static_cast<server *>(s)->handle_info(cx, m);
    }
    static fx_gs_ret cont(fx_ctx *cx, void *s, uint64_t c)
    {
        return static_cast<server *>(s)->handle_continue(cx, c);
    }
    static void terminate(fx_vm *vm, void *s, const fx_reason *reason) noexcept
    {
        server *obj = static_cast<server *>(s);
        if (!obj)
            return; /* the constructor threw */
        try {
            obj->terminate(vm, *reason);
        } catch (...) {
            report_late("fx::server::terminate");
        }
        delete obj; /* a throwing destructor calls std::terminate */
    }
};

} // namespace detail

template <class T> const fx_gs_ops *gen_server_ops()
{
    static const fx_gs_ops ops = {
        gs_init<&detail::server_glue<T>::init>,
        gs_call<&detail::server_glue<T>::call>,
        gs_cast<&detail::server_glue<T>::cast>,
        gs_info<&detail::server_glue<T>::info>,
        gs_continue<&detail::server_glue<T>::cont>,
        &detail::server_glue<T>::terminate,
    };
    return &ops;
}

} // namespace fx

#endif
