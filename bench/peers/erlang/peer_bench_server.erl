%% peer_bench_server -- the gen_server behind the callrt benchmark: a
%% counter whose `incr` call replies with the new count.
-module(peer_bench_server).
-behaviour(gen_server).

-export([init/1, handle_call/3, handle_cast/2]).

init(Count) -> {ok, Count}.

handle_call(incr, _From, Count) -> {reply, Count + 1, Count + 1};
handle_call(get, _From, Count) -> {reply, Count, Count}.

handle_cast(_Msg, Count) -> {noreply, Count}.
