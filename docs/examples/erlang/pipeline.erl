#!/usr/bin/env escript
%% The pipeline of docs/examples/pipeline.c in Erlang: a producer calls
%% three processors round-robin (each squares its number) and casts each
%% result to a consumer, which reports the total after N items.
-module(pipeline).
-mode(compile).
-behaviour(gen_server).
-export([main/1, init/1, handle_call/3, handle_cast/2]).
-define(N, 1000).

main(_) ->
    Procs = [start(processor) || _ <- [1, 2, 3]],
    Consumer = start({consumer, self()}),
    Producer = start({producer, Procs, Consumer}),
    gen_server:cast(Producer, run),
    receive {total, T} -> io:format("sum of squares 1..~p = ~p~n", [?N, T]) end.

start(Arg) -> {ok, Pid} = gen_server:start(?MODULE, Arg, []), Pid.

init(processor) -> {ok, processor};
init({consumer, Report}) -> {ok, {Report, 0, 0}};
init({producer, Procs, Consumer}) -> {ok, {Procs, Consumer}}.

handle_call({square, X}, _From, processor) -> {reply, X * X, processor}.

handle_cast({add, V}, {Report, Sum, Count}) when Count + 1 == ?N ->
    Report ! {total, Sum + V}, {noreply, {Report, Sum + V, Count + 1}};
handle_cast({add, V}, {Report, Sum, Count}) -> {noreply, {Report, Sum + V, Count + 1}};
handle_cast(run, {Procs, Consumer} = S) ->
    [gen_server:cast(Consumer, {add, gen_server:call(lists:nth(I rem 3 + 1, Procs), {square, I})})
     || I <- lists:seq(1, ?N)],
    {noreply, S}.
