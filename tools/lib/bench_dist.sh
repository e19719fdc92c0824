#!/usr/bin/env bash
# The distribution group (tools/bench --group dist): remote ping-pong and
# remote gen_server call round trips over loopback, for the pairs
# client->server fauxtp->fauxtp, fauxtp->erlang, erlang->fauxtp and
# erlang->erlang, in one
# run, alternating pairs. Starts a private epmd (127.0.0.1, a free port)
# and the two server nodes, runs each client once per pair and run, and
# stops everything it started by pid.
#   tools/lib/bench_dist.sh BDIR REPORT RUNS PING_N CALL_N THREADS
# BDIR holds bench/fauxtp-distbench and peers/ (the Erlang peer, built);
# writes REPORT/dist.jsonl (one JSON line per client run, "system" set to
# the pair) and REPORT/dist.md (tools/lib/bench_dist.py). Exits non-zero
# when a server does not start or a client fails (wrong or missing reply,
# or over its time limit).
set -uo pipefail
[ $# -eq 6 ] || { echo "usage: $0 BDIR REPORT RUNS PING_N CALL_N THREADS" >&2; exit 2; }
bdir=$1 report=$2 runs=$3 ping_n=$4 call_n=$5 threads=$6
fx=$bdir/bench/fauxtp-distbench
edir=$(cd "$bdir/peers" && pwd)
[ -x "$fx" ] || { echo "bench_dist: $fx not built" >&2; exit 1; }
[ -f "$edir/peer_dist.beam" ] || { echo "bench_dist: Erlang peer not built" >&2; exit 1; }
command -v epmd >/dev/null || { echo "bench_dist: epmd not found" >&2; exit 1; }

mkdir -p "$report"
out=$report/dist.jsonl logs=$report/dist-logs
: >"$out"
rm -rf "$logs"
mkdir -p "$logs"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT

# A free port for the private epmd: the first in a pid-derived range that
# nothing listens on.
port=""
for ((k = 0; k < 50; k++)); do
    p=$((20000 + ($$ * 7 + k * 131) % 20000))
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "bench_dist: no free port for epmd" >&2; exit 1; }
export ERL_EPMD_PORT=$port
epmd -port "$port" -address 127.0.0.1 >"$logs/epmd.log" 2>&1 &
pids+=($!)
cookie=fxdist$$$RANDOM
erun() { # erl with the bench's settings; args: NAME then -s/-extra args
    local name=$1
    shift
    exec erl -name "$name@127.0.0.1" -setcookie "$cookie" -noshell -noinput \
        -kernel inet_dist_use_interface "{127,0,0,1}" \
        +S "$threads:$threads" -pa "$edir" "$@"
}
# epmd up?
for ((k = 0; k < 100; k++)); do
    epmd -port "$port" -names >/dev/null 2>&1 && break
    sleep 0.1
done

"$fx" server "fxs@127.0.0.1" "$cookie" "$threads" >"$logs/fxs.log" 2>&1 </dev/null &
pids+=($!)
(erun es -s peer_dist server) >"$logs/es.log" 2>&1 </dev/null &
pids+=($!)
for ((k = 0; k < 300; k++)); do # at most 30 s
    grep -q ready "$logs/fxs.log" && grep -q ready "$logs/es.log" && break
    sleep 0.1
done
if ! grep -q ready "$logs/fxs.log" || ! grep -q ready "$logs/es.log"; then
    echo "bench_dist: a server did not start:"
    tail -5 "$logs/fxs.log" "$logs/es.log"
    exit 1
fi

status=0 seq=0
client() { # pair bench n
    local pair=$1 bench=$2 n=$3 line rc
    seq=$((seq + 1))
    local log=$logs/c$seq-$pair-$bench
    case $pair in
    fauxtp-fauxtp)
        timeout -k 5 300 "$fx" client "fxc$seq@127.0.0.1" "$cookie" "$threads" \
            "fxs@127.0.0.1" "$bench" "$n" >"$log.out" 2>"$log.err" </dev/null ;;
    fauxtp-erlang)
        timeout -k 5 300 "$fx" client "fxc$seq@127.0.0.1" "$cookie" "$threads" \
            "es@127.0.0.1" "$bench" "$n" erlang >"$log.out" 2>"$log.err" </dev/null ;;
    erlang-fauxtp)
        (timeout -k 5 300 bash -c "$(declare -f erun); cookie=$cookie threads=$threads \
            edir=$edir erun ec$seq -s peer_dist client -extra fxs@127.0.0.1 fauxtp $bench $n") \
            >"$log.out" 2>"$log.err" </dev/null ;;
    erlang-erlang)
        (timeout -k 5 300 bash -c "$(declare -f erun); cookie=$cookie threads=$threads \
            edir=$edir erun ec$seq -s peer_dist client -extra es@127.0.0.1 erlang $bench $n") \
            >"$log.out" 2>"$log.err" </dev/null ;;
    esac
    rc=$?
    line=$(grep '^{' "$log.out" | tail -1)
    if [ $rc -ne 0 ] || [ -z "$line" ]; then
        echo "FAILED: dist $pair $bench: exit $rc: $(tail -3 "$log.err")"
        status=1
        return
    fi
    # The pair replaces the client's own system label.
    line=$(sed "s/\"system\":\"[a-z]*\"/\"system\":\"$pair\"/" <<<"$line")
    echo "$line" | tee -a "$out"
}
for bench in pingpong call; do
    n=$([ $bench = call ] && echo "$call_n" || echo "$ping_n")
    for ((r = 1; r <= runs; r++)); do
        for pair in fauxtp-fauxtp fauxtp-erlang erlang-fauxtp erlang-erlang; do
            client $pair $bench "$n"
        done
    done
done
[ -s "$out" ] && python3 "$(dirname "$0")/bench_dist.py" "$out" | tee "$report/dist.md"
exit $status
