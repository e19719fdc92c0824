#!/usr/bin/env python3
"""dlopen_ctypes.py LIBFAUXTP.so ECHO_ACTOR.so [CYCLES]

The library from Python ctypes: load it (RTLD_LOCAL, ctypes' default),
create and start a VM, spawn an actor (its handler is in ECHO_ACTOR.so:
ctypes callbacks cannot return fx_next), send it messages and check the
answers, read the registry from a second Python thread, destroy the VM
and dlclose the library. That thread exits only after the unload (a
destructor left behind would crash it here). After each cycle the
library must be unmapped and the thread count back where it was. Exit
status 0 when all holds."""
import _ctypes
import ctypes as C
import os
import sys
import threading
import time


class Pid(C.Structure):
    _fields_ = [("id", C.c_uint64)]


class Match(C.Structure):
    _fields_ = [("type", C.c_uint32), ("from_", Pid), ("ref", C.c_uint64),
                ("pred", C.c_void_p), ("pred_arg", C.c_void_p)]


def fail(msg):
    sys.exit("dlopen_ctypes: " + msg)


def tasks():
    return len(os.listdir("/proc/self/task"))


def mapped(name):
    with open("/proc/self/maps") as f:
        return name in f.read()


def cycle(lib_path, echo_path, i):
    lib = C.CDLL(lib_path)
    echo = C.CDLL(echo_path)
    P = C.POINTER
    lib.fx_vm_create.argtypes = [C.c_void_p, P(C.c_void_p)]
    lib.fx_vm_start.argtypes = [C.c_void_p]
    lib.fx_vm_destroy.argtypes = [C.c_void_p]
    lib.fx_inbox_create.argtypes = [C.c_void_p, P(C.c_void_p)]
    lib.fx_inbox_destroy.argtypes = [C.c_void_p]
    lib.fx_vm_spawn.argtypes = [C.c_void_p, C.c_void_p, C.c_void_p, P(Pid)]
    lib.fx_register.argtypes = [C.c_void_p, C.c_char_p, Pid, C.c_void_p]
    lib.fx_whereis.argtypes = [C.c_void_p, C.c_char_p, P(Pid)]
    lib.fx_inbox_send.argtypes = [C.c_void_p, Pid, C.c_uint32, C.c_void_p, C.c_size_t]
    lib.fx_inbox_recv.argtypes = [C.c_void_p, P(Match), C.c_int64, P(C.c_void_p)]
    lib.fx_msg_data.argtypes = [C.c_void_p]
    lib.fx_msg_data.restype = C.c_void_p
    lib.fx_msg_free.argtypes = [C.c_void_p]
    lib.fx_allocator_name.restype = C.c_char_p
    lib.fx_version_string.restype = C.c_char_p
    if i == 0:
        print("fauxtp %s, allocator %s" % (lib.fx_version_string().decode(),
                                           lib.fx_allocator_name().decode()))

    vm, me, pid = C.c_void_p(), C.c_void_p(), Pid()
    if lib.fx_vm_create(None, C.byref(vm)) or lib.fx_vm_start(vm) or \
            lib.fx_inbox_create(vm, C.byref(me)):
        fail("VM start")
    handler = C.cast(echo.fxt_echo, C.c_void_p)
    if lib.fx_vm_spawn(vm, handler, None, C.byref(pid)) or \
            lib.fx_register(me, b"echo", pid, None):
        fail("spawn/register")

    read, release = threading.Event(), threading.Event()
    found = []

    def reader():
        got = Pid()
        found.append(lib.fx_whereis(vm, b"echo", C.byref(got)) == 0 and got.id == pid.id)
        read.set()
        release.wait(60)

    t = threading.Thread(target=reader)
    t.start()
    for k in range(50):
        v = C.c_int(k)
        msg = C.c_void_p()
        if lib.fx_inbox_send(me, pid, 1, C.byref(v), C.sizeof(v)) or \
                lib.fx_inbox_recv(me, C.byref(Match(type=2)), 10000, C.byref(msg)):
            fail("ping %d" % k)
        got = C.cast(lib.fx_msg_data(msg), C.POINTER(C.c_int))[0]
        lib.fx_msg_free(msg)
        if got != k:
            fail("pong %d, want %d" % (got, k))
    if not read.wait(60):
        fail("reader did not read")
    lib.fx_inbox_destroy(me)
    lib.fx_vm_destroy(vm)
    _ctypes.dlclose(echo._handle)
    _ctypes.dlclose(lib._handle)
    del lib, echo
    if mapped("libfauxtp"):
        fail("cycle %d: the library is still mapped after dlclose" % i)
    release.set()
    t.join()
    if found != [True]:
        fail("cycle %d: whereis from a second thread: %r" % (i, found))


def main():
    if len(sys.argv) < 3:
        fail("usage: dlopen_ctypes.py LIBFAUXTP.so ECHO_ACTOR.so [CYCLES]")
    cycles = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    before = tasks()
    for i in range(cycles):
        cycle(sys.argv[1], sys.argv[2], i)
        # Thread.join returns a moment before the OS thread is gone.
        deadline = time.monotonic() + 10
        while tasks() != before and time.monotonic() < deadline:
            time.sleep(0.01)
        if tasks() != before:
            fail("cycle %d: %d threads after unload, %d before" % (i, tasks(), before))
    print("ok: %d ctypes dlopen/use/dlclose cycles" % cycles)


main()
