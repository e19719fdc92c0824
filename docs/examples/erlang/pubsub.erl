#!/usr/bin/env escript
%% The publish/subscribe of docs/examples/pubsub.c in Erlang: each topic
%% is a pg group (pg is the broker: it monitors its members), subscribers
%% are put in and taken out of topics, publishing sends to every member,
%% and a subscriber that exits leaves its topics by itself.
-module(pubsub).
-mode(compile).
-export([main/1]).

main(_) ->
    {ok, _} = pg:start_link(),
    Main = self(),
    Subs = [spawn(fun() -> subscriber(Id, Main) end) || Id <- [1, 2, 3, 4]],
    Topics = [weather, weather, weather, sports],
    [ok = pg:join(Topic, Sub) || {Topic, Sub} <- lists:zip(Topics, Subs)],
    publish(weather, rain),
    publish(sports, '2-1'),
    ok = pg:leave(weather, lists:nth(2, Subs)),
    io:format("subscriber 2 unsubscribed~n"),
    Ref = monitor(process, lists:nth(3, Subs)),
    lists:nth(3, Subs) ! quit,
    receive {'DOWN', Ref, process, _, _} -> io:format("subscriber 3 quit~n") end,
    wait_members(weather, 1, 5000),
    publish(weather, sun),
    publish(politics, '?').

subscriber(Id, Main) ->
    receive
        {news, Topic, Text} -> Main ! {got, Id, Topic, Text}, subscriber(Id, Main);
        quit -> ok
    end.

wait_members(Topic, N, Tries) ->
    case length(pg:get_members(Topic)) of
        M when M == N; Tries == 0 -> ok;
        _ -> timer:sleep(1), wait_members(Topic, N, Tries - 1)
    end.

publish(Topic, Text) ->
    Members = pg:get_members(Topic),
    [Sub ! {news, Topic, Text} || Sub <- Members],
    io:format("~s: ~p subscribers~n", [Topic, length(Members)]),
    Got = lists:sort([receive {got, Id, T, X} -> {Id, T, X} end || _ <- Members]),
    [io:format("subscriber ~p got ~s: ~s~n", [Id, T, X]) || {Id, T, X} <- Got].
