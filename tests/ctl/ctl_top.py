#!/usr/bin/env python3
"""fauxtp-top against a running VM (tests/ctl/ctl_vm.c), end to end.

usage: ctl_top.py CTL_VM FAUXTP_TOP [--no-proc]

Starts ctl_vm with a control socket in a fresh temporary directory, then:
fauxtp-top --once --json shows the VM's processes (the registered
counter, the backlog with 5 queued messages, the workers); --metrics
parses with the Prometheus project's parser (python3-prometheus-client)
and has the documented families; --info by name and by pid; clean errors
for a missing socket and bad usage; misbehaving clients (garbage, half
requests, disconnects, over-long lines, too many connections, a client
that never reads) leave the server answering others. Finally closes
ctl_vm's stdin, which shuts the VM down and checks the socket is gone.
--no-proc leaves out what needs the per-process commands. Every wait is
bounded in time. Exits non-zero on the first failure."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

DEADLINE_S = 20


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def top(fauxtp_top, *args, expect=0):
    r = subprocess.run([fauxtp_top, *args], capture_output=True, text=True, timeout=30)
    if expect is not None and r.returncode != expect:
        fail("fauxtp-top %s: exit %d, wanted %d\nstdout: %s\nstderr: %s"
             % (" ".join(args), r.returncode, expect, r.stdout, r.stderr))
    return r


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)  # blocking: waits while the backlog is full
    s.settimeout(10)
    return s


def read_response(s, buf=b""):
    """One response: lines up to the empty line. Returns (lines, rest)."""
    while b"\n\n" not in buf and not buf.startswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            fail("connection closed before the end of a response: %r" % buf[-200:])
        buf += chunk
    if buf.startswith(b"\n"):
        return [], buf[1:]
    end = buf.index(b"\n\n")
    return buf[:end].decode().split("\n"), buf[end + 2:]


def ask(path, req):
    with connect(path) as s:
        s.sendall(req.encode() + b"\n")
        lines, _ = read_response(s)
        return lines


def closed_by_peer(s):
    """True when the server closes s within the deadline (reading past
    whatever it still sends)."""
    s.settimeout(10)
    try:
        while s.recv(65536):
            pass
        return True
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def check_metrics(text):
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        fail("python3-prometheus-client is missing (tools/lib/deps.sh FX_TEST_DEPS)")
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    # The parser names a counter's family without its _total suffix.
    for name, typ in [("fauxtp_up", "gauge"), ("fauxtp_processes", "gauge"),
                      ("fauxtp_processes_spawned", "counter"),
                      ("fauxtp_process_exits", "counter"),
                      ("fauxtp_messages_sent", "counter"),
                      ("fauxtp_messages_dropped", "counter"),
                      ("fauxtp_scheduler_steals", "counter"),
                      ("fauxtp_scheduler_parks", "counter"),
                      ("fauxtp_supervisor_restarts", "counter"),
                      ("fauxtp_pool_threads", "gauge")]:
        check(name in fams, "metric family %s missing; have %s" % (name, sorted(fams)))
        check(fams[name].type == typ, "%s is a %s, wanted %s" % (name, fams[name].type, typ))
        check(fams[name].documentation, "%s has no HELP" % name)
    up = fams["fauxtp_up"].samples[0]
    check(up.value == 1, "fauxtp_up %s" % up.value)
    procs = fams["fauxtp_processes"].samples[0].value
    check(procs >= 6, "fauxtp_processes %s, wanted >= 6" % procs)
    spawned = [s for s in fams["fauxtp_processes_spawned"].samples if s.name.endswith("_total")]
    check(spawned and spawned[0].value >= procs, "spawned %s < processes" % spawned)
    reasons = {s.labels.get("reason") for s in fams["fauxtp_messages_dropped"].samples}
    check({"noproc", "mailbox_full"} <= reasons, "dropped reasons %s" % reasons)
    for line in text.splitlines():
        check(line.startswith("fauxtp_") or line.startswith("# HELP fauxtp_") or
              line.startswith("# TYPE fauxtp_"), "stray metrics line %r" % line)


def check_once_json(fauxtp_top, path, with_proc):
    deadline = time.monotonic() + DEADLINE_S
    while True:
        r = top(fauxtp_top, "--socket", path, "--once", "--json", "--top", "50")
        lines = [json.loads(l) for l in r.stdout.splitlines()]
        check(lines, "no output")
        stats, procs = lines[0], lines[1:]
        check(stats.get("running") is True, "stats says not running: %s" % stats)
        check(stats.get("processes", 0) >= 6, "stats.processes %s" % stats.get("processes"))
        if not with_proc:
            return
        by_label = {}
        for p in procs:
            by_label.setdefault(p["label"], []).append(p)
        backlog = by_label.get("backlog", [{}])[0]
        if (len(by_label.get("worker", [])) == 4 and "counter" in by_label and
                backlog.get("queue_len") == 5):
            break
        if time.monotonic() > deadline:
            fail("expected processes not seen: %s" % r.stdout)
        time.sleep(0.05)
    counter = by_label["counter"][0]
    check(counter["name"] == "counter", "counter's name %r" % counter["name"])
    check(counter["handled"] == 3, "counter handled %s" % counter["handled"])
    check(counter["status"] == "waiting", "counter status %s" % counter["status"])
    check(backlog["saved_len"] == 5, "backlog saved_len %s" % backlog["saved_len"])
    # The handlers by name (ctl_vm is linked with -rdynamic).
    check(counter["handler"] == "ctl_counter", "counter's handler %r" % counter["handler"])
    check(backlog["handler"] == "ctl_never", "backlog's handler %r" % backlog["handler"])
    check(procs[0]["label"] == "backlog", "ps --sort queue: first is %s" % procs[0])
    # --info by name and by pid, human and JSON
    r = top(fauxtp_top, "--socket", path, "--info", "counter", "--json")
    info = json.loads(r.stdout)
    check(info["pid"] == counter["pid"], "info counter: %s" % info)
    r = top(fauxtp_top, "--socket", path, "--info", counter["pid"])
    check("counter" in r.stdout and "handled" in r.stdout, "info by pid: %s" % r.stdout)
    r = top(fauxtp_top, "--socket", path, "--info", "nobody", expect=1)
    check("FX_ENOENT" in r.stderr, "info nobody: %s" % r.stderr)
    # The human view renders the same processes.
    r = top(fauxtp_top, "--socket", path, "--once")
    check("backlog" in r.stdout and "counter" in r.stdout, "--once: %s" % r.stdout)


def check_clients(path):
    """Misbehaving clients; after each, a well-behaved one is served."""
    def healthy():
        lines = ask(path, "stats")
        check(len(lines) == 1 and json.loads(lines[0])["running"], "stats: %s" % lines)

    # Garbage: an error line, and the connection still works.
    with connect(path) as s:
        s.sendall(b"\x00\xff\x01garbage\x7f\n")
        lines, rest = read_response(s)
        check(len(lines) == 1 and json.loads(lines[0])["error"] == "FX_EINVAL",
              "garbage: %s" % lines)
        s.sendall(b"frobnicate\n")
        lines, rest = read_response(s, rest)
        check(json.loads(lines[0])["error"] == "FX_EINVAL", "unknown: %s" % lines)
        s.sendall(b"stats\n")
        lines, rest = read_response(s, rest)
        check("processes" in json.loads(lines[0]), "stats after garbage: %s" % lines)
    healthy()
    # Pipelined requests in one write, answered in order.
    with connect(path) as s:
        s.sendall(b"help\nstats\r\nmetrics\n")
        a, rest = read_response(s)
        b, rest = read_response(s, rest)
        c, rest = read_response(s, rest)
        check("commands" in a[0] and "processes" in b[0] and c[0].startswith("# HELP"),
              "pipelined: %s %s %s" % (a, b, c[:2]))
    # Half requests, then disconnect; and one left hanging while others work.
    for _ in range(20):
        s = connect(path)
        s.sendall(b"sta")
        s.close()
    hanging = connect(path)
    hanging.sendall(b"ps --so")
    healthy()
    # A request sent, then the write side shut: still answered.
    with connect(path) as s:
        s.sendall(b"stats\n")
        s.shutdown(socket.SHUT_WR)
        lines, _ = read_response(s)
        check("processes" in lines[0], "after SHUT_WR: %s" % lines)
    # An over-long line: an error, then the server closes the connection.
    with connect(path) as s:
        s.sendall(b"x" * 5000)
        lines, _ = read_response(s)
        check(json.loads(lines[0])["error"] == "FX_ELIMIT", "long line: %s" % lines)
        check(closed_by_peer(s), "long line: connection not closed")
    healthy()
    # Too many connections: the extra ones are told so and closed.
    many = [connect(path) for _ in range(15)]
    told = 0
    for _ in range(4):
        s = connect(path)
        s.settimeout(10)
        data = s.recv(4096)
        if b"too many control connections" in data:
            told += 1
        s.close()
    check(told == 4, "busy replies: %d of 4" % told)
    for s in many:
        s.close()
    # A client that asks a lot and never reads: the server is not blocked.
    greedy = connect(path)
    greedy.setblocking(False)
    sent = 0
    try:
        for _ in range(20000):
            greedy.send(b"metrics\n")
            sent += 1
    except BlockingIOError:
        pass
    healthy()
    # ... and it gets every answer once it reads.
    greedy.setblocking(True)
    greedy.settimeout(10)
    rest = b""
    for i in range(sent):
        lines, rest = read_response(greedy, rest)
        check(lines[0].startswith("# HELP"), "greedy answer %d: %s" % (i, lines[:1]))
    greedy.close()
    # quit closes without an answer.
    with connect(path) as s:
        s.sendall(b"quit\n")
        s.settimeout(10)
        check(s.recv(10) == b"", "quit answered something")
    hanging.close()
    healthy()


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    ctl_vm, fauxtp_top = sys.argv[1], sys.argv[2]
    with_proc = "--no-proc" not in sys.argv
    with tempfile.TemporaryDirectory(prefix="fauxtp-ctl-") as d:
        path = os.path.join(d, "vm.sock")
        # No VM yet: a clean error and exit 3; bad usage: exit 2.
        r = top(fauxtp_top, "--socket", path, "--once", expect=3)
        check("cannot connect" in r.stderr and path in r.stderr, "missing: %s" % r.stderr)
        r = top(fauxtp_top, "--socket", path, "--sort", "bogus", expect=2)
        check("--sort" in r.stderr, "usage: %s" % r.stderr)
        vm = subprocess.Popen([ctl_vm, path], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
        try:
            line = vm.stdout.readline()
            check(line.strip() == "ready", "ctl_vm said %r" % line)
            if with_proc:
                check_once_json(fauxtp_top, path, with_proc)
            r = top(fauxtp_top, "--socket", path, "--metrics")
            check_metrics(r.stdout)
            check_metrics("\n".join(ask(path, "metrics")) + "\n")
            check_clients(path)
            vm.stdin.close()
            rc = vm.wait(timeout=60)
            check(rc == 0, "ctl_vm exited %d" % rc)
        finally:
            if vm.poll() is None:
                vm.kill()
                vm.wait()
        check(not os.path.exists(path), "socket file left behind")
    print("ok")


if __name__ == "__main__":
    main()
