%% peer_bench_latency -- calllat: gen_server:call latency under load.
%%
%% While 120 processes run the `big` workload without end in the background,
%% a client process makes n gen_server:call round trips to a counter
%% gen_server (peer_bench_server) and times each one with
%% erlang:monotonic_time(nanosecond).  Returns the calls' time, p50, p99,
%% p99.9 and the maximum (nearest rank), and the background's rate
%% (bg_ops_per_sec: pings + pongs over its lifetime), so a run that starves
%% the background shows.  Verified: every reply is its call's number, the
%% server's count is n, and every background ping was answered.
-module(peer_bench_latency).

-export([run/1, bg_init/1]).

-define(BIG_ACTORS, 120).

now_ns() -> erlang:monotonic_time(nanosecond).

check(true, _Msg) -> ok;
check(false, Msg) -> exit({bench_result, {error, lists:flatten(Msg)}}).

run(N) ->
    Self = self(),
    Bg0 = now_ns(),
    Pids = [spawn(?MODULE, bg_init, [I]) || I <- lists:seq(1, ?BIG_ACTORS)],
    Peers = list_to_tuple(Pids),
    [P ! {peers, Peers} || P <- Pids],
    {ok, Server} = gen_server:start(peer_bench_server, 0, []),
    T0 = now_ns(),
    spawn_link(fun() -> Self ! {calllat_done, call_loop(Server, 1, N, [])} end),
    {Last, Rtts} = receive {calllat_done, R} -> R end,
    Secs = (now_ns() - T0) / 1.0e9,
    [P ! {stop, Self} || P <- Pids],
    Sent = lists:sum([receive {sent, P, S} -> S end || P <- Pids]),
    BgSecs = (now_ns() - Bg0) / 1.0e9,
    Answered = lists:sum([begin P ! {query, Self}, receive {answered, P, A} -> A end end
                          || P <- Pids]),
    Final = gen_server:call(Server, get),
    gen_server:stop(Server),
    check(Last =:= N andalso Final =:= N,
          io_lib:format("last reply ~p, server count ~p, want ~b", [Last, Final, N])),
    check(Sent =:= Answered andalso Sent > 0,
          io_lib:format("background sent ~b pings, ~b answered", [Sent, Answered])),
    Sorted = list_to_tuple(lists:sort(Rtts)),
    {ok, Secs, N, [{p50_ns, pct(Sorted, 500)}, {p99_ns, pct(Sorted, 990)},
                   {p999_ns, pct(Sorted, 999)}, {max_ns, element(N, Sorted)},
                   {bg_ops, 2 * Sent}, {bg_ops_per_sec, 2 * Sent / BgSecs}]}.

%% Nearest-rank percentile (Permille / 1000) of a sorted tuple.
pct(Sorted, Permille) ->
    Rank = max(1, (tuple_size(Sorted) * Permille + 999) div 1000),
    element(Rank, Sorted).

call_loop(_Server, I, N, Acc) when I > N -> {N, Acc};
call_loop(Server, I, N, Acc) ->
    T = now_ns(),
    case gen_server:call(Server, incr) of
        I -> call_loop(Server, I + 1, N, [now_ns() - T | Acc]);
        Other -> exit({bad_reply, Other, I})
    end.

%% The background: big without end.  {stop, From}: send no more pings and
%% report the pings sent once the last pong is in (pings from others are
%% still answered); {query, From}: report the pings answered and exit.
bg_init(Id) ->
    receive {peers, Peers} -> ok end,
    Rng = bg_ping(Id, Peers, rand:mwc59_seed()),
    bg_loop(Id, Peers, 1, 0, Rng, none).

bg_ping(Id, Peers, Rng0) ->
    Rng = rand:mwc59(Rng0),
    R = (rand:mwc59_value32(Rng) * (?BIG_ACTORS - 1)) bsr 32 + 1,  % 1..119
    Peer = if R >= Id -> R + 1; true -> R end,
    element(Peer, Peers) ! {ping, self()},
    Rng.

bg_loop(Id, Peers, Sent, Answered, Rng, Stop) ->
    receive
        {ping, From} ->
            From ! pong,
            bg_loop(Id, Peers, Sent, Answered + 1, Rng, Stop);
        pong when Stop =:= none ->
            Rng1 = bg_ping(Id, Peers, Rng),
            bg_loop(Id, Peers, Sent + 1, Answered, Rng1, Stop);
        pong ->
            Stop ! {sent, self(), Sent},
            bg_loop(Id, Peers, Sent, Answered, Rng, reported);
        {stop, From} ->
            bg_loop(Id, Peers, Sent, Answered, Rng, From);
        {query, From} ->
            From ! {answered, self(), Answered}
    end.
