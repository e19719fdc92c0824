#!/usr/bin/env escript
%% The task queue of docs/examples/taskqueue.c in Erlang: a queue hands
%% jobs to workers that ask for them (a finished job's result comes with
%% the request for the next), monitors each worker holding a job and puts
%% the job back when the worker dies first. Four workers under a
%% supervisor crash on a quarter of their jobs.
-module(taskqueue).
-mode(compile).
-export([main/1, init/1, handle_call/3, handle_info/2, worker/0]).
-define(N, 200).

main(_) ->
    logger:set_primary_config(level, none), % the crashes are the point
    {ok, _} = gen_server:start({local, queue}, ?MODULE, {queue, self()}, []),
    Kids = [#{id => I, start => {?MODULE, worker, []}, restart => transient}
            || I <- [w1, w2, w3, w4]],
    {ok, _} = supervisor:start_link({local, workers}, ?MODULE, {sup, Kids}),
    receive
        {total, T, Requeued} ->
            io:format("all ~p jobs done: ~p~n", [?N, T == ?N * (?N + 1)]),
            io:format("jobs put back after a crash: ~p~n", [Requeued > 0])
    end.

init({sup, Kids}) -> {ok, {#{intensity => 1000, period => 1}, Kids}};
init({queue, Report}) -> {ok, #{report => Report, pending => lists:seq(1, ?N), out => #{},
                                waiting => [], done => 0, sum => 0, requeued => 0}}.

worker() -> {ok, spawn_link(fun() -> loop(get) end)}.
loop(Request) ->
    case gen_server:call(queue, Request, infinity) of
        0 -> ok;
        Job -> rand:uniform(4) == 1 andalso exit({unlucky, Job}),
               loop({done, Job, 2 * Job})
    end.

hand_out({Pid, _} = From, Job, S = #{out := Out}) when Job > 0 ->
    gen_server:reply(From, Job), S#{out := Out#{monitor(process, Pid) => Job}};
hand_out(From, 0, S) -> gen_server:reply(From, 0), S.

handle_call({done, Job, R}, From, S = #{out := Out, done := D, sum := Sum, waiting := W}) ->
    [demonitor(M, [flush]) || {M, J} <- maps:to_list(Out), J == Job],
    S1 = S#{out := maps:filter(fun(_, J) -> J /= Job end, Out), done := D + 1, sum := Sum + R},
    case D + 1 of
        ?N ->
            maps:get(report, S) ! {total, Sum + R, maps:get(requeued, S)},
            S2 = lists:foldl(fun(F, A) -> hand_out(F, 0, A) end, S1#{waiting := []}, W),
            handle_call(get, From, S2);
        _ -> handle_call(get, From, S1)
    end;
handle_call(get, From, S = #{pending := [Job | Rest]}) ->
    {noreply, hand_out(From, Job, S#{pending := Rest})};
handle_call(get, From, S = #{done := ?N}) -> {noreply, hand_out(From, 0, S)};
handle_call(get, From, S = #{waiting := W}) -> {noreply, S#{waiting := [From | W]}}.

handle_info({'DOWN', M, process, _, _}, S = #{out := Out, requeued := Q}) ->
    case maps:take(M, Out) of
        error -> {noreply, S};
        {Job, Out1} -> {noreply, requeue(Job, S#{out := Out1, requeued := Q + 1})}
    end.

requeue(Job, S = #{waiting := [From | W]}) -> hand_out(From, Job, S#{waiting := W});
requeue(Job, S = #{pending := P}) -> S#{pending := [Job | P]}.
