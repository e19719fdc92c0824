%% peer_bench -- the fauxtp benchmark workloads written as plain Erlang/OTP.
%%
%% Started by the `erlang-bench` wrapper that build.sh generates:
%%   erl -noshell +S T:T +P ... -pa OUTDIR -s peer_bench main -extra ARGS
%% ARGS follow the shared CLI contract: NAME [--n N] [--threads T] [--json]
%% or --list.  Every workload runs in a fresh driver process; only the work
%% itself is timed (VM start-up is not), the result is verified and a wrong
%% result halts the VM with a non-zero status and a message on stderr.
%%
%% The code is deliberately ordinary Erlang: tail-recursive receive loops,
%% tagged tuples, self() carried in requests, gen_server for callrt.  The
%% one tuning knob used is the standard one for a process that is flooded by
%% messages (counter, mailbox receiver, fjthrput workers, fjcreate driver):
%% {message_queue_data, off_heap}, so that garbage collections of the
%% receiver do not copy its (long) queue over and over.
-module(peer_bench).

-export([main/0]).
%% Spawned via spawn/3 (MFA) so the new process carries no closure.
-export([pong_loop/1, counter_loop/1, ring_init/1, fjt_worker/3, fjc_worker/0,
         chameneo_start/3, big_init/3, skynet/3, mailbox_sender/2, idle/0,
         overload_sender/3]).

-define(BENCHES, [pingpong, counting, threadring, fjthrput, fjcreate, chameneos,
                  big, skynet, mailbox, spawnmem, callrt, calllat, heavy_inline,
                  heavy_pool, overload,
                  bndbuffer, philosopher, barber, banking, trapezoid, fib]).

-define(RING_SIZE, 100).
-define(FJT_ACTORS, 60).
-define(CHAMENEOS, 100).
-define(BIG_ACTORS, 120).
-define(MAILBOX_SENDERS, 100).
-define(OVERLOAD_SENDERS, 8).
-define(OVERLOAD_WORK_NS, 2500).

%% ---------------------------------------------------------------------------
%% CLI

main() ->
    Code = try cli(init:get_plain_arguments())
           catch
               throw:{usage, Msg} ->
                   io:format(standard_error, "erlang-bench: ~s~n", [Msg]),
                   2;
               Class:Reason:Stack ->
                   io:format(standard_error, "erlang-bench: ~p:~p~n~p~n",
                             [Class, Reason, Stack]),
                   3
           end,
    halt(Code).

cli(["--list" | _]) ->
    [io:format("~s~n", [B]) || B <- ?BENCHES],
    0;
cli([Name | Opts]) ->
    Bench = case [B || B <- ?BENCHES, atom_to_list(B) =:= Name] of
                [B] -> B;
                [] -> throw({usage, "unknown benchmark " ++ Name})
            end,
    #{n := N0, threads := T, json := Json} =
        parse_opts(Opts, #{n => default, threads => erlang:system_info(schedulers),
                           json => false}),
    N = case N0 of default -> default_n(Bench); _ -> N0 end,
    report(Bench, N, T, Json, run(Bench, N));
cli([]) ->
    throw({usage, "usage: erlang-bench NAME [--n N] [--threads T] [--json] | --list"}).

parse_opts([], Acc) -> Acc;
parse_opts(["--n", V | R], Acc) -> parse_opts(R, Acc#{n := pos_int(V)});
parse_opts(["--threads", V | R], Acc) -> parse_opts(R, Acc#{threads := pos_int(V)});
parse_opts(["--json" | R], Acc) -> parse_opts(R, Acc#{json := true});
parse_opts([X | _], _) -> throw({usage, "bad argument " ++ X}).

pos_int(S) ->
    case string:to_integer(S) of
        {I, ""} when I > 0 -> I;
        _ -> throw({usage, "expected a positive integer, got " ++ S})
    end.

default_n(pingpong) -> 1000000;
default_n(counting) -> 2000000;
default_n(threadring) -> 2000000;
default_n(fjthrput) -> 200000;
default_n(fjcreate) -> 100000;
default_n(chameneos) -> 200000;
default_n(big) -> 20000;
default_n(skynet) -> 1000000;
default_n(mailbox) -> 100000;
default_n(spawnmem) -> 1000000;
default_n(callrt) -> 500000;
default_n(calllat) -> 100000;
default_n(heavy_inline) -> 500;
default_n(heavy_pool) -> 500;
default_n(overload) -> 250000;
default_n(bndbuffer) -> 1000000;
default_n(philosopher) -> 20000;
default_n(barber) -> 200000;
default_n(banking) -> 500000;
default_n(trapezoid) -> 2000000;
default_n(fib) -> 27.

%% Runs the workload in a fresh, monitored driver process so that nothing
%% from the init/shell context leaks in, and so crashes become verification
%% failures.  Returns {ok, Seconds, Ops, Extra} or {error, Msg}.
run(Bench, N) ->
    {Pid, Ref} = spawn_monitor(fun() -> exit({bench_result, bench(Bench, N)}) end),
    receive
        {'DOWN', Ref, process, Pid, {bench_result, Res}} -> Res;
        {'DOWN', Ref, process, Pid, Other} ->
            {error, io_lib:format("driver crashed: ~p", [Other])}
    end.

report(Bench, N, T, Json, {ok, Secs, Ops, Extra}) ->
    Rate = Ops / max(Secs, 1.0e-9),
    ExtraAll = [{ops, Ops} | Extra],
    case Json of
        true ->
            ExtraJson = lists:join(",", [io_lib:format("\"~s\":~s", [K, num(V)])
                                         || {K, V} <- ExtraAll]),
            io:format("{\"bench\":\"~s\",\"system\":\"erlang\",\"n\":~b,\"threads\":~b,"
                      "\"seconds\":~.6f,\"ops_per_sec\":~.1f,\"extra\":{~s}}~n",
                      [Bench, N, T, Secs, Rate, ExtraJson]);
        false ->
            ExtraTxt = [io_lib:format(" ~s=~s", [K, num(V)]) || {K, V} <- Extra],
            io:format("erlang ~s: n=~b threads=~b ~.4f s, ~b ops, ~b ops/s (~.1f ns/op)~s~n",
                      [Bench, N, T, Secs, Ops, round(Rate), Secs * 1.0e9 / Ops, ExtraTxt])
    end,
    0;
report(Bench, _N, _T, _Json, {error, Msg}) ->
    io:format(standard_error, "erlang-bench: ~s: verification failed: ~s~n", [Bench, Msg]),
    1.

num(V) when is_integer(V) -> integer_to_list(V);
num(V) when is_float(V) -> io_lib:format("~.1f", [V]).

now_ns() -> erlang:monotonic_time(nanosecond).
secs_since(T0) -> (now_ns() - T0) / 1.0e9.

check(true, _Msg) -> ok;
check(false, Msg) -> exit({bench_result, {error, lists:flatten(Msg)}}).

%% ---------------------------------------------------------------------------
%% pingpong: n round trips between two processes; ops = 2n.

bench(pingpong, N) ->
    Self = self(),
    T0 = now_ns(),
    Pong = spawn(?MODULE, pong_loop, [0]),
    ping_loop(Pong, N, 0),
    Pong ! {stop, Self},
    receive {pong_count, C} -> ok end,
    Secs = secs_since(T0),
    check(C =:= N, io_lib:format("pong saw ~b pings, want ~b", [C, N])),
    {ok, Secs, 2 * N, []};

%% counting: the producer streams n `inc`s, then asks for the total.
bench(counting, N) ->
    T0 = now_ns(),
    Counter = spawn_opt(?MODULE, counter_loop, [0], [{message_queue_data, off_heap}]),
    send_n(Counter, inc, N),
    Counter ! {get, self()},
    Total = receive {total, X} -> X end,
    Secs = secs_since(T0),
    check(Total =:= N, io_lib:format("counter total ~b, want ~b", [Total, N])),
    {ok, Secs, N, []};

%% threadring: a token carrying the number of remaining hops travels around
%% a ring of 100 processes; the node that receives 0 tells the driver.
bench(threadring, N) ->
    Self = self(),
    T0 = now_ns(),
    Nodes = [spawn(?MODULE, ring_init, [Self]) || _ <- lists:seq(1, ?RING_SIZE)],
    [First | _] = Nodes,
    lists:foreach(fun({P, Next}) -> P ! {next, Next} end,
                  lists:zip(Nodes, tl(Nodes) ++ [First])),
    First ! {token, N},
    receive ring_done -> ok end,
    Secs = secs_since(T0),
    Hops = lists:sum([begin P ! {stop, Self}, receive {forwarded, P, F} -> F end end
                      || P <- Nodes]),
    check(Hops =:= N, io_lib:format("~b hops, want ~b", [Hops, N])),
    {ok, Secs, N, []};

%% fjthrput: the driver sends n messages to each of 60 workers (round-robin,
%% as in Savina); each worker reports when it has counted n.
bench(fjthrput, N) ->
    Self = self(),
    T0 = now_ns(),
    Workers = [spawn_opt(?MODULE, fjt_worker, [0, N, Self], [{message_queue_data, off_heap}])
               || _ <- lists:seq(1, ?FJT_ACTORS)],
    fjt_send(N, Workers),
    Done = collect(fjt_done, ?FJT_ACTORS, 0),
    Secs = secs_since(T0),
    check(Done =:= ?FJT_ACTORS * N, io_lib:format("workers counted ~b, want ~b",
                                                  [Done, ?FJT_ACTORS * N])),
    {ok, Secs, ?FJT_ACTORS * N, []};

%% fjcreate: spawn a process, send it one message; it replies and exits.
bench(fjcreate, N) ->
    T0 = now_ns(),
    process_flag(message_queue_data, off_heap),
    fjc_spawn(N, self()),
    Done = collect(fjc_done, N, 0),
    Secs = secs_since(T0),
    check(Done =:= N, io_lib:format("~b actors reported, want ~b", [Done, N])),
    {ok, Secs, N, []};

%% chameneos (Savina): chameneos meet through a mall process.
bench(chameneos, N) ->
    Self = self(),
    T0 = now_ns(),
    Mall = spawn(fun() -> mall(N, none, 0, 0, Self) end),
    [spawn(?MODULE, chameneo_start, [Mall, I rem 3, 0]) || I <- lists:seq(1, ?CHAMENEOS)],
    Sum = receive {mall_done, S} -> S end,
    Secs = secs_since(T0),
    check(Sum =:= 2 * N, io_lib:format("sum of meetings ~b, want ~b", [Sum, 2 * N])),
    {ok, Secs, 4 * N, []};

%% big (Savina): 120 processes; each has one ping in flight at a time to a
%% random peer, n pings in all, and answers every ping it gets with a pong.
bench(big, N) ->
    Self = self(),
    T0 = now_ns(),
    Pids = [spawn(?MODULE, big_init, [I, N, Self]) || I <- lists:seq(1, ?BIG_ACTORS)],
    Peers = list_to_tuple(Pids),
    [P ! {peers, Peers} || P <- Pids],
    Done = collect(big_done, ?BIG_ACTORS, 0),
    Secs = secs_since(T0),
    Answered = lists:sum([begin P ! {stop, Self}, receive {answered, P, A} -> A end end
                          || P <- Pids]),
    check(Done =:= ?BIG_ACTORS, "not all actors finished"),
    check(Answered =:= ?BIG_ACTORS * N,
          io_lib:format("~b pings answered, want ~b", [Answered, ?BIG_ACTORS * N])),
    {ok, Secs, 2 * ?BIG_ACTORS * N, []};

%% skynet: a 10-ary tree of processes with n leaves.
bench(skynet, N) ->
    check(is_pow10(N), "skynet n must be a power of 10"),
    T0 = now_ns(),
    spawn(?MODULE, skynet, [self(), 0, N]),
    Sum = receive V -> V end,
    Secs = secs_since(T0),
    check(Sum =:= N * (N - 1) div 2, io_lib:format("sum ~b, want ~b", [Sum, N * (N - 1) div 2])),
    {ok, Secs, (10 * N - 1) div 9, []};

%% mailbox: 100 senders flood one receiver with n messages each.
bench(mailbox, N) ->
    Self = self(),
    Total = ?MAILBOX_SENDERS * N,
    T0 = now_ns(),
    Receiver = spawn_opt(fun() -> mailbox_receiver(0, Total, Self) end,
                         [{message_queue_data, off_heap}]),
    [spawn(?MODULE, mailbox_sender, [Receiver, N]) || _ <- lists:seq(1, ?MAILBOX_SENDERS)],
    Got = receive {mailbox_done, G} -> G end,
    Secs = secs_since(T0),
    check(Got =:= Total, io_lib:format("receiver got ~b, want ~b", [Got, Total])),
    {ok, Secs, Total, []};

%% overload: 8 senders send n messages each, as fast as they can, to one
%% receiver that busy-waits OVERLOAD_WORK_NS on the clock per message (the
%% same work as fauxtp's and CAF's); verified by count and checksum. Its
%% peak RSS is measured from outside (tools/lib/peak_rss.py).
bench(overload, N) ->
    Self = self(),
    Total = ?OVERLOAD_SENDERS * N,
    T0 = now_ns(),
    Receiver = spawn_opt(fun() -> overload_receiver(0, 0, Total, Self) end,
                         [{message_queue_data, off_heap}]),
    [spawn(?MODULE, overload_sender, [Receiver, 0, N])
     || _ <- lists:seq(1, ?OVERLOAD_SENDERS)],
    {Got, Sum} = receive {overload_done, G, S} -> {G, S} end,
    Secs = secs_since(T0),
    Want = ?OVERLOAD_SENDERS * (N * (N - 1) div 2),
    check(Got =:= Total andalso Sum =:= Want,
          io_lib:format("receiver got ~b (sum ~b), want ~b (~b)", [Got, Sum, Total, Want])),
    {ok, Secs, Total, []};

%% spawnmem: n idle processes blocked in receive.  The driver keeps no list
%% of pids (that would add 16 B per actor to its own heap); the processes are
%% simply left to die with the VM at halt.
bench(spawnmem, N) ->
    erlang:garbage_collect(),
    [{total, Tot0}, {processes, Proc0}] = erlang:memory([total, processes]),
    Count0 = erlang:system_info(process_count),
    T0 = now_ns(),
    spawn_idle(N),
    Secs = secs_since(T0),
    [{total, Tot1}, {processes, Proc1}] = erlang:memory([total, processes]),
    Count1 = erlang:system_info(process_count),
    check(Count1 - Count0 >= N, io_lib:format("only ~b processes alive, want ~b",
                                              [Count1 - Count0, N])),
    {ok, Secs, N, [{bytes_per_actor, (Proc1 - Proc0) / N},
                   {bytes_per_actor_total, (Tot1 - Tot0) / N}]};

%% callrt: a client process makes n gen_server:call round trips.
bench(callrt, N) ->
    Self = self(),
    T0 = now_ns(),
    {ok, Server} = gen_server:start(peer_bench_server, 0, []),
    spawn_link(fun() -> Self ! {callrt_done, call_loop(Server, 1, N)} end),
    Last = receive {callrt_done, L} -> L end,
    Secs = secs_since(T0),
    Final = gen_server:call(Server, get),
    gen_server:stop(Server),
    check(Last =:= N andalso Final =:= N,
          io_lib:format("last reply ~p, server count ~p, want ~b", [Last, Final, N])),
    {ok, Secs, N, []};

%% calllat: gen_server:call latency while big runs (peer_bench_latency).
bench(calllat, N) ->
    peer_bench_latency:run(N);
%% heavy_inline, heavy_pool (tools/bench --group blocking): p50/p99
%% round-trip latency of a ping-pong pair while 8 processes each do 10 ms
%% of CPU work per message, as ordinary Erlang code that the BEAM
%% preempts. One workload for both names (Erlang needs no pool for it):
%% fauxtp runs the work inside handlers (heavy_inline) or on its pool
%% (heavy_pool). The driver starts one round trip per millisecond with a
%% message carrying its send time; latency runs from that send to the
%% pong's arrival at the pinger. See bench/heavy_bench.c.
bench(Heavy, N) when Heavy =:= heavy_inline; Heavy =:= heavy_pool ->
    Self = self(),
    Units = counters:new(1, [write_concurrency]),
    Workers = [spawn(fun() -> heavy_worker(Units) end) || _ <- lists:seq(1, 8)],
    timer:sleep(50),
    Pong = spawn(?MODULE, pong_loop, [0]),
    Pinger = spawn(fun() -> heavy_pinger(Pong, Self, N, []) end),
    T0 = now_ns(),
    heavy_drive(Pinger, N),
    Lats = receive {heavy_done, L} -> L end,
    Secs = secs_since(T0),
    U = counters:get(Units, 1),
    [exit(W, kill) || W <- Workers],
    exit(Pong, kill),
    check(length(Lats) =:= N andalso U > 0,
          io_lib:format("~b round trips of ~b, ~b work units", [length(Lats), N, U])),
    Sorted = list_to_tuple(lists:sort(Lats)),
    P99 = case N >= 100 of true -> (N * 99) div 100; false -> (N * 99) div 100 + 1 end,
    Us = fun(I) -> element(I, Sorted) / 1000.0 end,
    {ok, Secs, N, [{p50_us, Us((N - 1) div 2 + 1)}, {p99_us, Us(P99)}, {max_us, Us(N)},
                   {work_units, U}]};

%% The Savina workloads of issue 20 (peer_bench_savina2).
bench(Savina2, N) ->
    peer_bench_savina2:run(Savina2, N).

%% ---------------------------------------------------------------------------
%% process bodies and helpers

heavy_spin(End, X) ->
    case now_ns() >= End of
        true -> X;
        false -> heavy_spin(End, heavy_mix(X, 1024))
    end.

%% xorshift32: stays a small integer (no bignum allocation), the fairest
%% plain-Erlang equivalent of the C side's 64-bit xorshift.
heavy_mix(X, 0) -> X;
heavy_mix(X, K) ->
    X1 = X bxor ((X bsl 13) band 16#FFFFFFFF),
    X2 = X1 bxor (X1 bsr 17),
    heavy_mix(X2 bxor ((X2 bsl 5) band 16#FFFFFFFF), K - 1).

heavy_worker(Units) ->
    heavy_spin(now_ns() + 10000000, 2463534242),
    counters:add(Units, 1, 1),
    erlang:send_after(1, self(), work),
    receive work -> heavy_worker(Units) end.

heavy_drive(_Pinger, 0) -> ok;
heavy_drive(Pinger, K) ->
    Pinger ! {next, now_ns()},
    timer:sleep(1),
    heavy_drive(Pinger, K - 1).

heavy_pinger(_Pong, Driver, 0, Acc) -> Driver ! {heavy_done, Acc};
heavy_pinger(Pong, Driver, K, Acc) ->
    receive
        {next, T} ->
            Pong ! {ping, self()},
            receive pong -> heavy_pinger(Pong, Driver, K - 1, [now_ns() - T | Acc]) end
    end.

send_n(_To, _Msg, 0) -> ok;
send_n(To, Msg, K) -> To ! Msg, send_n(To, Msg, K - 1).

%% Sums the integer payload of Count messages {Tag, Value}.
collect(_Tag, 0, Acc) -> Acc;
collect(Tag, Count, Acc) -> receive {Tag, V} -> collect(Tag, Count - 1, Acc + V) end.

ping_loop(_Pong, N, N) -> ok;
ping_loop(Pong, N, K) ->
    Pong ! {ping, self()},
    receive pong -> ping_loop(Pong, N, K + 1) end.

pong_loop(Count) ->
    receive
        {ping, From} -> From ! pong, pong_loop(Count + 1);
        {stop, From} -> From ! {pong_count, Count}
    end.

counter_loop(Count) ->
    receive
        inc -> counter_loop(Count + 1);
        {get, From} -> From ! {total, Count}
    end.

ring_init(Driver) ->
    receive {next, Next} -> ring_loop(Next, 0, Driver) end.

ring_loop(Next, Fwd, Driver) ->
    receive
        {token, 0} -> Driver ! ring_done, ring_loop(Next, Fwd, Driver);
        {token, V} -> Next ! {token, V - 1}, ring_loop(Next, Fwd + 1, Driver);
        {stop, From} -> From ! {forwarded, self(), Fwd}
    end.

fjt_send(0, _Workers) -> ok;
fjt_send(K, Workers) ->
    fjt_send_all(Workers),
    fjt_send(K - 1, Workers).

fjt_send_all([]) -> ok;
fjt_send_all([W | Ws]) -> W ! work, fjt_send_all(Ws).

fjt_worker(Count, N, Driver) ->
    receive
        work when Count + 1 =:= N -> Driver ! {fjt_done, N};
        work -> fjt_worker(Count + 1, N, Driver)
    end.

fjc_spawn(0, _Driver) -> ok;
fjc_spawn(K, Driver) ->
    spawn(?MODULE, fjc_worker, []) ! {work, Driver},
    fjc_spawn(K - 1, Driver).

fjc_worker() ->
    receive {work, From} -> From ! {fjc_done, 1} end.

%% Savina chameneos: the mall pairs two `meet` requests; it forwards the
%% first chameneo's meet to the second, which changes colour, tells the
%% first via `change`, and both go back to the mall: 4 messages per meeting.
mall(N, Waiting, Faded, Sum, Driver) ->
    receive
        {meet, From, Colour} when N > 0 ->
            case Waiting of
                none -> mall(N, From, Faded, Sum, Driver);
                W -> W ! {meet, From, Colour}, mall(N - 1, none, Faded, Sum, Driver)
            end;
        {meet, From, _} ->
            From ! fade,
            mall(N, Waiting, Faded, Sum, Driver);
        {meetings, M} when Faded + 1 =:= ?CHAMENEOS ->
            Driver ! {mall_done, Sum + M};
        {meetings, M} ->
            mall(N, Waiting, Faded + 1, Sum + M, Driver)
    end.

chameneo_start(Mall, Colour, Meetings) ->
    Mall ! {meet, self(), Colour},
    chameneo(Mall, Colour, Meetings).

chameneo(Mall, Colour, Meetings) ->
    receive
        {meet, Other, OtherColour} ->
            C = complement(Colour, OtherColour),
            Other ! {change, C},
            Mall ! {meet, self(), C},
            chameneo(Mall, C, Meetings + 1);
        {change, C} ->
            Mall ! {meet, self(), C},
            chameneo(Mall, C, Meetings + 1);
        fade ->
            Mall ! {meetings, Meetings}
    end.

%% colours 0,1,2: equal colours stay, different ones give the third
complement(C, C) -> C;
complement(A, B) -> 3 - A - B.

%% Each big actor draws peers with rand:mwc59 (OTP 25's fast generator, the
%% recommended one for hot loops), never picking itself.
big_init(Id, N, Driver) ->
    receive {peers, Peers} -> ok end,
    Rng = big_ping(Id, Peers, rand:mwc59_seed()),
    big_loop(Id, N, Peers, 1, 0, Rng, Driver).

big_ping(Id, Peers, Rng0) ->
    Rng = rand:mwc59(Rng0),
    R = (rand:mwc59_value32(Rng) * (?BIG_ACTORS - 1)) bsr 32 + 1,  % 1..119
    Peer = if R >= Id -> R + 1; true -> R end,
    element(Peer, Peers) ! {ping, self()},
    Rng.

big_loop(Id, N, Peers, Sent, Answered, Rng, Driver) ->
    receive
        {ping, From} ->
            From ! pong,
            big_loop(Id, N, Peers, Sent, Answered + 1, Rng, Driver);
        pong when Sent =:= N ->
            Driver ! {big_done, 1},
            big_loop(Id, N, Peers, Sent, Answered, Rng, Driver);
        pong ->
            Rng1 = big_ping(Id, Peers, Rng),
            big_loop(Id, N, Peers, Sent + 1, Answered, Rng1, Driver);
        {stop, From} ->
            From ! {answered, self(), Answered}
    end.

skynet(Parent, Num, 1) ->
    Parent ! Num;
skynet(Parent, Num, Size) ->
    Sub = Size div 10,
    skynet_spawn(self(), Num, Sub, 10),
    Parent ! skynet_collect(10, 0).

skynet_spawn(_Self, _Num, _Sub, 0) -> ok;
skynet_spawn(Self, Num, Sub, K) ->
    spawn(?MODULE, skynet, [Self, Num + (K - 1) * Sub, Sub]),
    skynet_spawn(Self, Num, Sub, K - 1).

skynet_collect(0, Sum) -> Sum;
skynet_collect(K, Sum) -> receive V -> skynet_collect(K - 1, Sum + V) end.

is_pow10(1) -> true;
is_pow10(N) when N rem 10 =:= 0 -> is_pow10(N div 10);
is_pow10(_) -> false.

mailbox_sender(Receiver, N) -> send_n(Receiver, msg, N).

overload_sender(_Receiver, N, N) -> ok;
overload_sender(Receiver, I, N) ->
    Receiver ! {work, I},
    overload_sender(Receiver, I + 1, N).

overload_receiver(Count, Sum, Total, Driver) when Count =:= Total ->
    Driver ! {overload_done, Count, Sum};
overload_receiver(Count, Sum, Total, Driver) ->
    receive
        {work, V} ->
            busy_until(erlang:monotonic_time(nanosecond) + ?OVERLOAD_WORK_NS),
            overload_receiver(Count + 1, Sum + V, Total, Driver)
    end.

busy_until(T) ->
    case erlang:monotonic_time(nanosecond) >= T of
        true -> ok;
        false -> busy_until(T)
    end.

mailbox_receiver(Count, Total, Driver) when Count =:= Total ->
    Driver ! {mailbox_done, Count};
mailbox_receiver(Count, Total, Driver) ->
    receive msg -> mailbox_receiver(Count + 1, Total, Driver) end.

spawn_idle(0) -> ok;
spawn_idle(K) -> spawn(?MODULE, idle, []), spawn_idle(K - 1).

idle() -> receive stop -> ok end.

call_loop(_Server, I, N) when I > N -> N;
call_loop(Server, I, N) ->
    case gen_server:call(Server, incr) of
        I -> call_loop(Server, I + 1, N);
        Other -> exit({bad_reply, Other, I})
    end.
