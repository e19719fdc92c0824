%% The distribution benchmark's Erlang side (tools/bench --group dist;
%% bench/dist_bench.c is the fauxtp side, docs/benchmarks.md).
%%
%%   erl -name N -setcookie C -s peer_dist server
%%     a gen_server registered as bench: {Pid, {1, Bin}} is answered with
%%     Pid ! {1, Bin}, a call {2, Bin} with Bin. Prints "ready".
%%   erl -name N -setcookie C -s peer_dist client -extra SERVER_NODE KIND BENCH N
%%     KIND is the server's system (fauxtp or erlang), BENCH pingpong or
%%     call: one warm-up round trip (connects), then N strict round trips
%%     to {bench, SERVER_NODE}, each reply checked against its sequence
%%     number; prints one JSON line and halts (status 1 on a wrong reply).
%%
%% Pings to a fauxtp server are {1, <<Seq:64/native>>}: fauxtp answers the
%% sender the distribution protocol names (REG_SEND carries it); an Erlang
%% server needs the sender in the message, so pings to it are {self(), Ping}.
-module(peer_dist).
-behaviour(gen_server).
-export([server/0, client/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

server() ->
    {ok, _} = gen_server:start({local, bench}, ?MODULE, [], []),
    io:format("ready~n").

init([]) -> {ok, none}.

handle_call({2, Bin}, _From, S) -> {reply, Bin, S}.

handle_cast(_, S) -> {noreply, S}.

handle_info({Pid, {1, _} = Ping}, S) when is_pid(Pid) ->
    Pid ! Ping,
    {noreply, S};
handle_info(_, S) ->
    {noreply, S}.

client() ->
    [Node0, Kind, Bench, N0] = init:get_plain_arguments(),
    Node = list_to_atom(Node0),
    N = list_to_integer(N0),
    Dest = {bench, Node},
    Wrap = case Kind of
               "erlang" -> fun(P) -> {self(), P} end;
               "fauxtp" -> fun(P) -> P end
           end,
    ping(Dest, Wrap, 0),
    T0 = erlang:monotonic_time(),
    Ops = case Bench of
              "pingpong" -> pings(Dest, Wrap, 1, N), 2 * N;
              "call" -> calls(Dest, 1, N), N
          end,
    Us = erlang:convert_time_unit(erlang:monotonic_time() - T0, native, microsecond),
    S = Us / 1.0e6,
    io:format("{\"bench\":\"dist_~s\",\"system\":\"erlang\",\"n\":~b,\"threads\":~b,"
              "\"seconds\":~.6f,\"ops_per_sec\":~.1f,\"extra\":{\"ops\":~b}}~n",
              [Bench, N, erlang:system_info(schedulers), S,
               case S > 0 of true -> Ops / S; false -> 0.0 end, Ops]),
    halt(0).

ping(Dest, Wrap, I) ->
    Dest ! Wrap({1, <<I:64/native>>}),
    receive
        {1, <<I:64/native>>} -> ok;
        Other -> fail("ping ~b got ~p", [I, Other])
    after 10000 -> fail("ping ~b: no reply", [I])
    end.

pings(_, _, I, N) when I > N -> ok;
pings(Dest, Wrap, I, N) -> ping(Dest, Wrap, I), pings(Dest, Wrap, I + 1, N).

calls(_, I, N) when I > N -> ok;
calls(Dest, I, N) ->
    case gen_server:call(Dest, {2, <<I:64/native>>}) of
        <<I:64/native>> -> calls(Dest, I + 1, N);
        Other -> fail("call ~b got ~p", [I, Other])
    end.

fail(Fmt, Args) ->
    io:format(standard_error, "peer_dist: " ++ Fmt ++ "~n", Args),
    halt(1).
