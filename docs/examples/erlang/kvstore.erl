#!/usr/bin/env escript
%% The key-value store of docs/examples/kvstore.c in Erlang: a store
%% registered as kv under a supervisor, called by name; it is killed on
%% purpose, restarted empty, and found again under the same name.
-module(kvstore).
-mode(compile).
-export([main/1, init/1, handle_call/3]).

main(_) ->
    logger:set_primary_config(level, none), % the kill is on purpose
    {ok, _} = supervisor:start_link({local, kv_sup}, ?MODULE, sup),
    store(apple, 3),
    store(pear, 5),
    fetch(apple),
    io:format("killing the store on purpose~n"),
    Old = whereis(kv),
    exit(Old, kill),
    io:format("the store was restarted: ~p~n", [restarted(Old, 5000)]),
    fetch(apple),
    store(apple, 4),
    fetch(apple).

restarted(_, 0) -> false;
restarted(Old, N) ->
    case whereis(kv) of
        New when is_pid(New), New =/= Old -> true;
        _ -> timer:sleep(1), restarted(Old, N - 1)
    end.

store(K, V) -> io:format("put ~s = ~p: ~p~n", [K, V, gen_server:call(kv, {put, K, V})]).

fetch(K) ->
    case gen_server:call(kv, {get, K}) of
        {ok, V} -> io:format("get ~s -> ~p~n", [K, V]);
        error -> io:format("get ~s -> not found~n", [K])
    end.

init(sup) ->
    Store = {gen_server, start_link, [{local, kv}, ?MODULE, store, []]},
    {ok, {#{}, [#{id => store, start => Store}]}};
init(store) -> {ok, #{}}.

handle_call({put, K, V}, _From, S) -> {reply, ok, S#{K => V}};
handle_call({get, K}, _From, S) -> {reply, maps:find(K, S), S}.
