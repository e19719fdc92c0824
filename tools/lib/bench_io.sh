#!/usr/bin/env bash
# The I/O benchmark (tools/bench --io; docs/benchmarks.md "Server I/O"):
# every HTTP server under wrk on loopback, plain and 16-deep pipelined,
# 1 and 2 server threads, 50 and 1,000 connections, the systems
# alternating run by run. Per run: wrk's requests/s and p50/p99 latency,
# and the server's CPU time (utime + stime of /proc/PID/stat, all its
# threads) over the run, so requests per server CPU-second.
#   tools/lib/bench_io.sh BDIR REPORT RUNS SECONDS
# BDIR holds bench/fauxtp-http and peers/*-http (built by tools/bench).
# FX_IO_SYSTEMS / FX_IO_MODES (space-separated) narrow the run, e.g.
# FX_IO_SYSTEMS="fauxtp rawepoll" FX_IO_MODES=pipelined; FX_IO_CONNS="50"
# narrows the connection counts. FX_IO_EXTRA adds systems, as
# "label:command" items separated by ';' (e.g. an older build of the
# server, for a before/after run side by side).
# Servers listen on 127.0.0.1 port 0 (each prints the port it got) and are
# stopped by pid. Writes REPORT/io.jsonl and REPORT/io.md.
set -uo pipefail
bdir=$1 report=$2 runs=$3 secs=$4
hz=$(getconf CLK_TCK)
out=$report/io.jsonl
: >"$out"
lua=bench/io/pipeline.lua

# label:command (@T@ = server threads; a system without @T@ runs once, as
# its 1-thread figure: the raw epoll server is single-threaded)
systems=("fauxtp:$bdir/bench/fauxtp-http --serve 0 --threads @T@")
[ -x $bdir/peers/rawepoll-http ] && systems+=("rawepoll:$bdir/peers/rawepoll-http 0")
# CAF's broker runs on the middleman's one multiplexer thread: 1 thread.
[ -x $bdir/peers/caf-http ] && systems+=("caf-broker:$bdir/peers/caf-http 0")
[ -x $bdir/peers/erlang-http ] && systems+=("erlang:$bdir/peers/erlang-http 0 @T@")
[ -x $bdir/peers/go-http ] && systems+=("go-raw:$bdir/peers/go-http -port 0 -mode raw -threads @T@"
    "go-nethttp:$bdir/peers/go-http -port 0 -mode nethttp -threads @T@")

if [ -n "${FX_IO_EXTRA:-}" ]; then
    IFS=';' read -ra extra <<<"$FX_IO_EXTRA"
    systems+=("${extra[@]}")
fi

cpu_ticks() { # utime + stime of a process, all threads (fields 14, 15)
    awk '{ sub(/.*\) /, ""); print $12 + $13 }' /proc/$1/stat
}

failures=0
one_run() { # label, cmd, threads, conns, mode
    local label=$1 cmd=${2//@T@/$3} threads=$3 conns=$4 mode=$5
    local log=$report/io-server.out
    # Removed here, not truncated by the redirection below: that happens in
    # the background job, maybe after the loop read the last server's port.
    rm -f $log
    $cmd >$log 2>&1 &
    local pid=$! port=""
    for _ in $(seq 100); do
        port=$(awk '/^port /{print $2; exit}' $log 2>/dev/null)
        [ -n "$port" ] && break
        sleep 0.1
    done
    if [ -z "$port" ]; then
        echo "FAILED: $label did not start: $(tail -3 $log)"
        kill $pid 2>/dev/null
        wait $pid 2>/dev/null
        failures=$((failures + 1))
        return
    fi
    local args=(-t1 -c"$conns" -d"${secs}s" --timeout 5s --latency)
    [ "$mode" = pipelined ] && args+=(-s "$lua")
    args+=("http://127.0.0.1:$port/plaintext")
    [ "$mode" = pipelined ] && args+=(-- 16)
    local c0 c1 w
    c0=$(cpu_ticks $pid)
    w=$(timeout -k 5 $((secs + 30)) wrk "${args[@]}" 2>&1)
    c1=$(cpu_ticks $pid)
    local alive=alive
    [ -d /proc/$pid ] || alive="exited"
    alive="$alive; its output: $(tail -3 $log | tr "\n" " ")"
    kill $pid
    wait $pid 2>/dev/null
    if python3 tools/lib/bench_io.py --parse "$label" "$threads" "$conns" "$mode" \
        "$((c1 - c0))" "$hz" <<<"$w" >>"$out"; then
        tail -1 "$out"
    else
        echo "FAILED: $label $threads $conns $mode (port $port, server $alive):" \
            "wrk said: $(tail -5 <<<"$w")"
        failures=$((failures + 1))
    fi
}

for ((r = 1; r <= runs; r++)); do
    for conns in ${FX_IO_CONNS:-50 1000}; do
        for mode in ${FX_IO_MODES:-plain pipelined}; do
            for threads in 1 2; do
                for sys in "${systems[@]}"; do
                    label=${sys%%:*} cmd=${sys#*:}
                    [ -n "${FX_IO_SYSTEMS:-}" ] && [[ " $FX_IO_SYSTEMS " != *" $label "* ]] && continue
                    [[ $cmd != *@T@* ]] && [ $threads != 1 ] && continue
                    one_run "$label" "$cmd" $threads $conns $mode
                done
            done
        done
    done
done
python3 tools/lib/bench_io.py --table "$out" | tee $report/io.md
exit $((failures > 0))
