// A C++ GenServer under a supervisor (docs/cxx.md).
//
// "dict" is a class derived from fx::server: its state is an
// std::unordered_map<std::string, std::string>, it is registered under a
// name and supervised (permanent, one_for_one). The main thread calls it
// by name; a GET of a missing key throws std::out_of_range, which the
// adapter turns into the server's exit (the map's destructor runs), the
// caller gets the reason, and the supervisor starts a fresh, empty
// server under the same name. The output is compared with cxx_store.out.
#include <fauxtp/fauxtp.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace
{

enum : uint32_t { PUT = 1, GET };

class Dict : public fx::server
{
  public:
    // No output here: a restart runs concurrently with the caller's print.
    Dict(fx_ctx *, void *) {}
    ~Dict() override
    {
        std::printf("dict: destroyed with %zu keys\n", map_.size());
    }

    fx_gs_ret handle_call(fx_ctx *cx, fx_from, uint32_t type, const void *data,
                          size_t size) override
    {
        std::string req(static_cast<const char *>(data), size);
        if (type == PUT) {
            auto eq = req.find('=');
            if (eq == std::string::npos)
                fx::crash("PUT without '='"); // throws: unwinds, then exits
            map_[req.substr(0, eq)] = req.substr(eq + 1);
            return fx_gs_reply(cx, "ok", 2);
        }
        const std::string &v = map_.at(req); // throws std::out_of_range
        return fx_gs_reply(cx, v.data(), v.size());
    }

    void terminate(fx_vm *, const fx_reason &why) override
    {
        char text[96];
        fx_reason_format(&why, text, sizeof text);
        std::printf("dict: terminate %s\n", text);
    }

  private:
    std::unordered_map<std::string, std::string> map_;
};

// One call by name; prints the answer or the error and the reason.
void call(fx_inbox *in, uint32_t type, const std::string &req)
{
    fx_msg *reply = nullptr;
    fx_reason why;
    int rc =
        fx_gs_call_named(in, "dict", type, req.data(), req.size(), 5000, &reply, &why);
    if (rc == 0) {
        std::string a(static_cast<const char *>(fx_msg_data(reply)), fx_msg_size(reply));
        std::printf("%s %s -> %s\n", type == PUT ? "put" : "get", req.c_str(), a.c_str());
        fx_msg_free(reply);
    } else {
        char text[96];
        fx_reason_format(&why, text, sizeof text);
        std::printf("%s %s -> %s %s\n", type == PUT ? "put" : "get", req.c_str(),
                    fx_err_name(rc), rc == FX_EEXIT ? text : "");
    }
}

// Waits (bounded) until "dict" names a live server other than `old`.
bool restarted(fx_vm *vm, fx_inbox *in, fx_pid old)
{
    for (int i = 0; i < 5000; i++) {
        fx_pid now;
        if (fx_whereis(vm, "dict", &now) == 0 && !fx_pid_eq(now, old) &&
            fx_is_alive(vm, now) == 1)
            return true;
        fx_msg *m;
        fx_match never = {};
        never.type = 0xfffe; // nothing sends it: a 1 ms pause
        fx_inbox_recv(in, &never, 1, &m);
    }
    return false;
}

} // namespace

int main()
{
    fx_vm_config cfg;
    fx_vm_config_init(&cfg);
    cfg.crash_logger = fx_crash_logger_silent; // the output is checked
    fx_vm *vm;
    fx_inbox *in;
    if (fx_vm_create(&cfg, &vm) != 0 || fx_vm_start(vm) != 0 ||
        fx_inbox_create(vm, &in) != 0)
        return 1;

    static fx_gs_spec dict = {};
    dict.ops = fx::gen_server_ops<Dict>();
    dict.name = "dict";
    fx_child_spec child = {};
    std::snprintf(child.id, sizeof child.id, "dict");
    child.start = fx_child_gen_server;
    child.arg = &dict;
    child.restart = FX_PERMANENT;
    fx_sup_spec sup;
    fx_sup_spec_init(&sup);
    sup.children = &child;
    sup.nchildren = 1;
    fx_pid root;
    if (fx_sup_start(in, &sup, &root, nullptr) != 0)
        return 1;

    call(in, PUT, "lang=C++");
    call(in, GET, "lang");
    fx_pid first;
    fx_whereis(vm, "dict", &first);
    call(in, GET, "missing"); // throws inside the server
    if (!restarted(vm, in, first))
        return 1;
    call(in, PUT, "lang=C++17"); // a fresh, empty server (its init ran first)
    std::printf("supervisor: dict restarted under a new pid\n");
    call(in, GET, "lang");

    fx_gs_stop_server(in, root, fx_reason_shutdown(), 5000, nullptr);
    fx_inbox_destroy(in);
    fx_vm_destroy(vm);
    return 0;
}
