// The C++ adapters of <fauxtp/fauxtp.hpp>: an exception thrown in a
// wrapped callback unwinds its frames (destructors run, counted), becomes
// the actor's exit reason (seen by a monitor and a link), a supervisor
// restarts the child, and fx::crash gives an exact reason. A plain
// program: exits 0 when every check holds, else prints the first failure
// and exits 1.
#include <fauxtp/fauxtp.hpp>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace
{

std::atomic<int> g_live{0};      // Guard objects alive
std::atomic<int> g_destroyed{0}; // Guard destructors run
std::atomic<int> g_servers{0};   // Store objects alive

struct Guard {
    std::string text;
    explicit Guard(const char *t) : text(t)
    {
        ++g_live;
    }
    ~Guard()
    {
        --g_live;
        ++g_destroyed;
    }
    Guard(const Guard &) = delete;
    Guard &operator=(const Guard &) = delete;
};

int failures = 0;

#define CHECK(cond, ...)                                                                 \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            std::fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__,        \
                         #cond);                                                         \
            std::fprintf(stderr, __VA_ARGS__);                                           \
            std::fprintf(stderr, "\n");                                                  \
            ++failures;                                                                  \
            return;                                                                      \
        }                                                                                \
    } while (0)

std::string fmt(const fx_reason &r)
{
    char b[128];
    fx_reason_format(&r, b, sizeof b);
    return b;
}

enum : uint32_t { T_THROW = 100, T_CRASH, T_INT, T_PUT, T_GET, T_BAD };

// ---- plain actors ---------------------------------------------------------

fx_next thrower(fx_ctx *cx, fx_msg *m)
{
    Guard g("on the handler's stack");
    std::string big(1000, 'x'); // a live heap object, freed by unwinding
    switch (fx_msg_type(m)) {
    case T_THROW:
        throw std::runtime_error("boom");
    case T_CRASH:
        fx::crash(fx_reason_error(77, "exact"));
    case T_INT:
        throw 42;
    default:
        return fx_continue(cx);
    }
}

// Starts a wrapped actor, monitors and links it (the inbox traps), sends
// it `type`, and returns the DOWN's and EXIT's reasons.
void kill_with(fx_vm *vm, fx_inbox *in, uint32_t type, fx_reason *down, fx_reason *exit_r)
{
    fx_pid p;
    fx_ref ref;
    if (fx_vm_spawn(vm, fx::handler<thrower>, nullptr, &p) != 0 ||
        fx_inbox_monitor(in, p, &ref) != 0 || fx_inbox_link(in, p) != 0) {
        std::fprintf(stderr, "spawn/monitor/link failed\n");
        std::exit(1);
    }
    fx_inbox_send(in, p, type, nullptr, 0);
    fx_msg *m = nullptr;
    fx_match md = {};
    md.type = FX_MSG_DOWN;
    md.ref = ref;
    if (fx_inbox_recv(in, &md, 10000, &m) != 0) {
        std::fprintf(stderr, "no DOWN\n");
        std::exit(1);
    }
    *down = static_cast<const fx_down_info *>(fx_msg_data(m))->reason;
    fx_msg_free(m);
    fx_match me = {};
    me.type = FX_MSG_EXIT;
    me.from = p;
    if (fx_inbox_recv(in, &me, 10000, &m) != 0) {
        std::fprintf(stderr, "no EXIT\n");
        std::exit(1);
    }
    *exit_r = static_cast<const fx_exit_info *>(fx_msg_data(m))->reason;
    fx_msg_free(m);
}

void plain_actors(fx_vm *vm, fx_inbox *in)
{
    fx_reason d, e;
    int before = g_destroyed;
    kill_with(vm, in, T_THROW, &d, &e);
    CHECK(g_destroyed == before + 1 && g_live == 0, "the Guard was not destroyed");
    fx_reason want = fx_reason_error(FX_ECRASHED, "boom [std::runtime_error]");
    CHECK(fx_reason_eq(&d, &want), "DOWN reason %s", fmt(d).c_str());
    CHECK(fx_reason_eq(&e, &want), "EXIT reason %s", fmt(e).c_str());

    kill_with(vm, in, T_CRASH, &d, &e);
    CHECK(g_destroyed == before + 2 && g_live == 0, "fx::crash skipped the Guard");
    want = fx_reason_error(77, "exact");
    CHECK(fx_reason_eq(&d, &want), "fx::crash reason %s", fmt(d).c_str());

    kill_with(vm, in, T_INT, &d, &e);
    CHECK(g_destroyed == before + 3 && g_live == 0, "throw 42 skipped the Guard");
    want = fx_reason_error(FX_ECRASHED, "C++ exception [int]");
    CHECK(fx_reason_eq(&d, &want), "throw 42 reason %s", fmt(d).c_str());
}

// ---- a GenServer class ------------------------------------------------------

class Store : public fx::server
{
  public:
    Store(fx_ctx *, void *arg)
    {
        if (arg && std::strcmp(static_cast<const char *>(arg), "refuse") == 0)
            throw std::invalid_argument("refused");
        ++g_servers;
    }
    ~Store() override
    {
        --g_servers;
    }
    fx_gs_ret handle_call(fx_ctx *cx, fx_from, uint32_t type, const void *data,
                          size_t size) override
    {
        std::string key(static_cast<const char *>(data), size);
        if (type == T_GET) {
            auto it = map_.find(key);
            if (it == map_.end()) {
                Guard g("in a call"); // (fx_gs_reply sends at once: a Guard on
                                      // the success path could outlive the reply)
                throw std::out_of_range("no " + key);
            }
            return fx_gs_reply(cx, it->second.data(), it->second.size());
        }
        return fx_gs_stop(cx, fx_reason_error(FX_EINVAL, "bad call"));
    }
    fx_gs_ret handle_cast(fx_ctx *cx, uint32_t type, const void *data,
                          size_t size) override
    {
        if (type == T_BAD)
            fx::crash("bad cast");
        std::string kv(static_cast<const char *>(data), size);
        auto eq = kv.find('=');
        map_[kv.substr(0, eq)] = kv.substr(eq + 1);
        return fx_gs_noreply(cx);
    }

  private:
    std::unordered_map<std::string, std::string> map_;
};

void gen_server_class(fx_vm *vm, fx_inbox *in)
{
    (void) vm;
    fx_gs_spec spec = {};
    spec.ops = fx::gen_server_ops<Store>();
    fx_pid s;
    CHECK(fx_gs_start(in, &spec, &s, nullptr) == 0, "start");
    CHECK(g_servers == 1, "one Store");
    const char kv[] = "k=v";
    CHECK(fx_vm_gs_cast(vm, s, T_PUT, kv, 3) == 0, "cast");
    fx_msg *reply = nullptr;
    CHECK(fx_gs_call(in, s, T_GET, "k", 1, 10000, &reply, nullptr) == 0, "get k");
    CHECK(fx_msg_size(reply) == 1 && std::memcmp(fx_msg_data(reply), "v", 1) == 0,
          "value");
    fx_msg_free(reply);
    int before = g_destroyed;
    fx_reason why;
    int rc = fx_gs_call(in, s, T_GET, "zz", 2, 10000, &reply, &why);
    CHECK(rc == FX_EEXIT, "a throwing call: %s", fx_err_name(rc));
    fx_reason want = fx_reason_error(FX_ECRASHED, "no zz [std::out_of_range]");
    CHECK(fx_reason_eq(&why, &want), "call reason %s", fmt(why).c_str());
    CHECK(g_destroyed == before + 1, "the call's Guard was not destroyed (%d, %d)",
          g_destroyed.load(), before);
    // terminate (which deletes the object) runs before the DOWN that
    // ended the call is sent.
    CHECK(g_servers == 0, "the Store was not deleted after its crash");

    // A constructor that throws fails the start with the reason.
    spec.arg = const_cast<char *>("refuse");
    rc = fx_gs_start(in, &spec, &s, &why);
    CHECK(rc == FX_EEXIT, "a throwing constructor: %s", fx_err_name(rc));
    want = fx_reason_error(FX_ECRASHED, "refused [std::invalid_argument]");
    CHECK(fx_reason_eq(&why, &want), "init reason %s", fmt(why).c_str());
    CHECK(g_servers == 0, "no Store left");
}

// ---- under a supervisor -------------------------------------------------------

void supervised(fx_vm *vm, fx_inbox *in)
{
    static fx_gs_spec child_spec = {};
    child_spec.ops = fx::gen_server_ops<Store>();
    fx_child_spec c = {};
    std::snprintf(c.id, sizeof c.id, "store");
    c.start = fx_child_gen_server;
    c.arg = &child_spec;
    c.restart = FX_PERMANENT;
    fx_sup_spec ss;
    fx_sup_spec_init(&ss);
    ss.children = &c;
    ss.nchildren = 1;
    ss.intensity = 5;
    fx_pid sup;
    CHECK(fx_sup_start(in, &ss, &sup, nullptr) == 0, "sup start");
    fx_child_info info;
    CHECK(fx_sup_which_children(in, sup, &info, 1, 10000) == 1, "which");
    fx_pid first = info.pid;
    fx_ref ref;
    CHECK(fx_inbox_monitor(in, first, &ref) == 0, "monitor");
    CHECK(fx_vm_gs_cast(vm, first, T_BAD, nullptr, 0) == 0, "bad cast");
    fx_msg *m = nullptr;
    fx_match md = {};
    md.type = FX_MSG_DOWN;
    md.ref = ref;
    CHECK(fx_inbox_recv(in, &md, 10000, &m) == 0, "DOWN");
    fx_reason d = static_cast<const fx_down_info *>(fx_msg_data(m))->reason;
    fx_msg_free(m);
    fx_reason want = fx_reason_error(FX_ECRASHED, "bad cast");
    CHECK(fx_reason_eq(&d, &want), "cast reason %s", fmt(d).c_str());
    fx_pid now = FX_PID_NONE;
    for (int i = 0; i < 5000; i++) {
        if (fx_sup_which_children(in, sup, &info, 1, 10000) == 1 &&
            info.status == FX_CHILD_RUNNING && !fx_pid_eq(info.pid, first)) {
            now = info.pid;
            break;
        }
        fx_inbox_recv(in, &md, 1, &m); // a 1 ms pause (nothing matches)
    }
    CHECK(!fx_pid_is_none(now) && fx_is_alive(vm, now) == 1, "not restarted");
    CHECK(g_servers == 1, "%d Store objects, expected 1", g_servers.load());
    CHECK(fx_gs_stop_server(in, sup, fx_reason_shutdown(), 10000, nullptr) == 0, "stop");
    CHECK(g_servers == 0, "the restarted Store was not deleted");
}

} // namespace

int main()
{
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.threads = 2;
    cfg.crash_logger = fx_crash_logger_silent;
    fx_vm *vm;
    fx_inbox *in;
    if (fx_vm_create(&cfg, &vm) != 0 || fx_vm_start(vm) != 0 ||
        fx_inbox_create(vm, &in) != 0)
        return 1;
    plain_actors(vm, in);
    gen_server_class(vm, in);
    supervised(vm, in);
    fx_inbox_destroy(in);
    fx_vm_destroy(vm);
    if (failures == 0)
        std::printf("adapters: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
