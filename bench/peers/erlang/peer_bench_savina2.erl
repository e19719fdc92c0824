%% peer_bench_savina2 -- the Savina workloads added with issue 20:
%% bndbuffer, philosopher, barber, banking, trapezoid, fib.  Same work, ops
%% and checks as fauxtp's bench/savina2_benches.c and savina3_benches.c.
%% run(Bench, N) returns {ok, Seconds, Ops, Extra}; a wrong result exits the
%% driver with {bench_result, {error, Msg}} (see peer_bench:run/2).
-module(peer_bench_savina2).

-export([run/2]).
-export([bb_manager/5, bb_producer/3, bb_consumer/2, arbitrator/4, philosopher/4,
         room/3, barber/1, customer/2, account/5, trap_worker/4, fib/2]).

-define(BB_PRODUCERS, 40).
-define(BB_CONSUMERS, 40).
-define(BB_SIZE, 50).
-define(BB_ADJUSTED, (?BB_SIZE - ?BB_PRODUCERS)).
-define(PHILOSOPHERS, 20).
-define(ROOM_CHAIRS, 100).
-define(SHOP_LIMIT, 150).
-define(ACCOUNTS, 1000).
-define(BANK_WINDOW, 60).
-define(BANK_START, 1000000).
-define(TRAP_WORKERS, 100).
-define(MASK64, 16#FFFFFFFFFFFFFFFF).

now_ns() -> erlang:monotonic_time(nanosecond).
secs_since(T0) -> (now_ns() - T0) / 1.0e9.

check(true, _Msg) -> ok;
check(false, Msg) -> exit({bench_result, {error, lists:flatten(Msg)}}).

%% ---------------------------------------------------------------------------
%% bndbuffer: producers -> manager (buffer of 50) -> consumers; ops = 4n.

run(bndbuffer, N) ->
    Self = self(),
    T0 = now_ns(),
    Mgr = spawn(?MODULE, bb_manager, [N, queue:new(), [], [], {0, 0}]),
    [spawn(?MODULE, bb_consumer, [Mgr, Self]) || _ <- lists:seq(1, ?BB_CONSUMERS)],
    [spawn(?MODULE, bb_producer, [Mgr, P, N]) || P <- lists:seq(0, ?BB_PRODUCERS - 1)],
    Sum = lists:sum([receive {bb_sum, S} -> S end || _ <- lists:seq(1, ?BB_CONSUMERS)]),
    Secs = secs_since(T0),
    check(Sum =:= N * (N - 1) div 2,
          io_lib:format("items sum to ~b, want ~b", [Sum, N * (N - 1) div 2])),
    {ok, Secs, 4 * N, []};

%% philosopher: 20 philosophers, an arbitrator; ops = 20n meals.
run(philosopher, N) ->
    Self = self(),
    T0 = now_ns(),
    Arb = spawn(?MODULE, arbitrator, [Self, #{}, {0, 0}, ?PHILOSOPHERS]),
    [spawn(?MODULE, philosopher, [Arb, I, N, 0]) || I <- lists:seq(0, ?PHILOSOPHERS - 1)],
    {Meals, Denied} = receive {arb_done, M, D} -> {M, D} end,
    Secs = secs_since(T0),
    check(Meals =:= ?PHILOSOPHERS * N,
          io_lib:format("~b meals, want ~b", [Meals, ?PHILOSOPHERS * N])),
    {ok, Secs, ?PHILOSOPHERS * N, [{denied, Denied}]};

%% barber: a factory (this process), a waiting room, a barber; ops = n.
run(barber, N) ->
    Self = self(),
    T0 = now_ns(),
    Barber = spawn(?MODULE, barber, [0]),
    Room = spawn(?MODULE, room, [Barber, queue:new(), true]),
    Made = lists:min([N, ?SHOP_LIMIT]),
    [new_customer(Room, Id) || Id <- lists:seq(0, Made - 1)],
    {IdSum, Returned} = factory(Room, N, Made, 0, 0, 0, queue:new()),
    Secs = secs_since(T0),
    Room ! stop,
    Barber ! {stop, Self},
    Cuts = receive {cuts, C} -> C end,
    check(Cuts =:= N andalso IdSum =:= N * (N - 1) div 2,
          io_lib:format("~b haircuts, ids sum to ~b", [Cuts, IdSum])),
    {ok, Secs, N, [{returned, Returned}]};

%% banking: a teller (this process), 1000 accounts; ops = 4n.
run(banking, N) ->
    Self = self(),
    T0 = now_ns(),
    Accts = list_to_tuple([spawn(?MODULE, account, [undefined, ?BANK_START, false,
                                                    queue:new(), undefined])
                           || _ <- lists:seq(1, ?ACCOUNTS)]),
    [element(I, Accts) ! {accounts, Accts} || I <- lists:seq(1, ?ACCOUNTS)],
    Rng0 = 16#9E3779B97F4A7C15,
    {Rng1, Sent} = teller_start(Accts, Rng0, 0, min(N, ?BANK_WINDOW)),
    teller(Accts, Rng1, Sent, 0, N),
    Secs = secs_since(T0),
    Delta = expected(Rng0, N, #{}),
    Bad = length([I || I <- lists:seq(1, ?ACCOUNTS),
                       begin element(I, Accts) ! {get, Self},
                             receive {balance, B} -> B end
                       end =/= ?BANK_START + maps:get(I - 1, Delta, 0)]),
    check(Bad =:= 0, io_lib:format("~b of ~b balances wrong", [Bad, ?ACCOUNTS])),
    {ok, Secs, 4 * N, []};

%% trapezoid: 100 workers integrate f over [1, 5]; ops = n.
run(trapezoid, N) ->
    Self = self(),
    T0 = now_ns(),
    [spawn(?MODULE, trap_worker, [Self, N * W div ?TRAP_WORKERS,
                                  N * (W + 1) div ?TRAP_WORKERS, N])
     || W <- lists:seq(0, ?TRAP_WORKERS - 1)],
    Area = lists:sum([receive {area, A} -> A end || _ <- lists:seq(1, ?TRAP_WORKERS)]),
    Secs = secs_since(T0),
    Want = trap_area(0, N, N),
    check(abs(Area - Want) =< 1.0e-9 * abs(Want),
          io_lib:format("area ~.15g, sequentially ~.15g", [Area, Want])),
    {ok, Secs, N, []};

%% fib: a process per call; n is the index, ops = 2 F(n) - 1.
run(fib, N) ->
    check(N >= 1 andalso N =< 60, "fib --n is the index, 1..60"),
    Want = fib_iter(N),
    Self = self(),
    T0 = now_ns(),
    spawn(?MODULE, fib, [Self, N]),
    Got = receive {fib, V} -> V end,
    Secs = secs_since(T0),
    check(Got =:= Want, io_lib:format("fib(~b) = ~b, want ~b", [N, Got, Want])),
    {ok, Secs, 2 * Want - 1, []}.

%% ---------------------------------------------------------------------------
%% bndbuffer processes

%% Buf: queue of items; Idle: consumers waiting; Waiting: producers waiting;
%% {Delivered, Stopped}.
bb_manager(N, Buf, Idle, Waiting, {Delivered, Stopped}) ->
    receive
        {data, Item, P} ->
            {Buf1, Idle1, D1} =
                case Idle of
                    [C | Cs] -> C ! {item, Item}, {Buf, Cs, Delivered + 1};
                    [] ->
                        check(queue:len(Buf) < ?BB_SIZE, "item from a producer told to wait"),
                        {queue:in(Item, Buf), [], Delivered}
                end,
            Waiting1 = case queue:len(Buf1) < ?BB_ADJUSTED of
                           true -> P ! produce, Waiting;
                           false -> [P | Waiting]
                       end,
            bb_after(N, Buf1, Idle1, Waiting1, D1, Stopped);
        {available, C} when Delivered =:= N ->
            C ! stop,
            bb_after(N, Buf, Idle, Waiting, Delivered, Stopped + 1);
        {available, C} ->
            case queue:out(Buf) of
                {empty, _} -> bb_after(N, Buf, [C | Idle], Waiting, Delivered, Stopped);
                {{value, Item}, Buf1} ->
                    C ! {item, Item},
                    Waiting1 = case Waiting of
                                   [P | Ps] -> P ! produce, Ps;
                                   [] -> []
                               end,
                    bb_after(N, Buf1, Idle, Waiting1, Delivered + 1, Stopped)
            end
    end.

bb_after(N, Buf, Idle, Waiting, N, Stopped) when Idle =/= [] ->
    [C ! stop || C <- Idle],
    bb_after(N, Buf, [], Waiting, N, Stopped + length(Idle));
bb_after(_N, _Buf, _Idle, _Waiting, _D, ?BB_CONSUMERS) -> ok;
bb_after(N, Buf, Idle, Waiting, D, Stopped) ->
    bb_manager(N, Buf, Idle, Waiting, {D, Stopped}).

bb_producer(_Mgr, Next, N) when Next >= N -> ok;
bb_producer(Mgr, Next, N) ->
    Mgr ! {data, Next, self()},
    receive produce -> bb_producer(Mgr, Next + ?BB_PRODUCERS, N) end.

bb_consumer(Mgr, Report) ->
    Mgr ! {available, self()},
    bb_consume(Mgr, Report, 0).

bb_consume(Mgr, Report, Sum) ->
    receive
        {item, V} -> Mgr ! {available, self()}, bb_consume(Mgr, Report, Sum + V);
        stop -> Report ! {bb_sum, Sum}
    end.

%% ---------------------------------------------------------------------------
%% philosopher processes

arbitrator(Report, Forks, {Meals, Denied}, Left) ->
    receive
        {hungry, Id, P} ->
            R = (Id + 1) rem ?PHILOSOPHERS,
            case maps:is_key(Id, Forks) orelse maps:is_key(R, Forks) of
                true -> P ! denied, arbitrator(Report, Forks, {Meals, Denied + 1}, Left);
                false -> P ! eat, arbitrator(Report, Forks#{Id => 1, R => 1}, {Meals, Denied}, Left)
            end;
        {ate, Id} ->
            R = (Id + 1) rem ?PHILOSOPHERS,
            check(maps:is_key(Id, Forks) andalso maps:is_key(R, Forks),
                  "a philosopher gave back forks it did not hold"),
            arbitrator(Report, maps:without([Id, R], Forks), {Meals + 1, Denied}, Left);
        exit when Left =:= 1 -> Report ! {arb_done, Meals, Denied};
        exit -> arbitrator(Report, Forks, {Meals, Denied}, Left - 1)
    end.

philosopher(Arb, Id, N, Meals) ->
    Arb ! {hungry, Id, self()},
    receive
        denied -> philosopher(Arb, Id, N, Meals);
        eat ->
            Arb ! {ate, Id},
            case Meals + 1 < N of
                true -> philosopher(Arb, Id, N, Meals + 1);
                false -> Arb ! exit
            end
    end.

%% ---------------------------------------------------------------------------
%% barber processes

new_customer(Room, Id) ->
    C = spawn(?MODULE, customer, [self(), Id]),
    Room ! {enter, C}.

factory(_Room, N, _Made, N, IdSum, Returned, _Back) -> {IdSum, Returned};
factory(Room, N, Made, Left, IdSum, Returned, Back) ->
    receive
        {returned, C} -> factory(Room, N, Made, Left, IdSum, Returned + 1, queue:in(C, Back));
        {left, Id} when Left + 1 =:= N -> {IdSum + Id, Returned};
        {left, Id} ->
            case queue:out(Back) of
                {{value, C}, Back1} ->
                    Room ! {enter, C},
                    factory(Room, N, Made, Left + 1, IdSum + Id, Returned, Back1);
                {empty, _} when Made < N ->
                    new_customer(Room, Made),
                    factory(Room, N, Made + 1, Left + 1, IdSum + Id, Returned, Back);
                {empty, _} ->
                    factory(Room, N, Made, Left + 1, IdSum + Id, Returned, Back)
            end
    end.

room(Barber, Chairs, Asleep) ->
    receive
        {enter, C} when Asleep -> Barber ! {enter, C, self()}, room(Barber, Chairs, false);
        {enter, C} ->
            case queue:len(Chairs) of
                ?ROOM_CHAIRS -> C ! full, room(Barber, Chairs, false);
                _ -> room(Barber, queue:in(C, Chairs), false)
            end;
        next ->
            case queue:out(Chairs) of
                {empty, _} -> room(Barber, Chairs, true);
                {{value, C}, Chairs1} -> Barber ! {enter, C, self()}, room(Barber, Chairs1, false)
            end;
        stop -> ok
    end.

barber(Cuts) ->
    receive
        {enter, C, Room} ->
            C ! start,
            C ! cut,
            Room ! next,
            barber(Cuts + 1);
        {stop, Report} -> Report ! {cuts, Cuts}
    end.

customer(Factory, Id) ->
    receive
        full -> Factory ! {returned, self()}, customer(Factory, Id);
        start -> customer(Factory, Id);
        cut -> Factory ! {left, Id}
    end.

%% ---------------------------------------------------------------------------
%% banking

xorshift(S0) ->
    S1 = S0 bxor (S0 bsr 12),
    S2 = (S1 bxor (S1 bsl 25)) band ?MASK64,
    S3 = S2 bxor (S2 bsr 27),
    {(S3 * 16#2545F4914F6CDD1D) band ?MASK64, S3}.

draw(Rng0) ->
    {A, Rng1} = xorshift(Rng0),
    {B, Rng2} = xorshift(Rng1),
    {C, Rng3} = xorshift(Rng2),
    Src = A rem ?ACCOUNTS,
    Dst = (Src + 1 + B rem (?ACCOUNTS - 1)) rem ?ACCOUNTS,
    {Src, Dst, 1 + C rem 1000, Rng3}.

teller_start(_Accts, Rng, Sent, Sent) -> {Rng, Sent};
teller_start(Accts, Rng, Sent, Want) ->
    teller_start(Accts, teller_send(Accts, Rng), Sent + 1, Want).

teller_send(Accts, Rng0) ->
    {Src, Dst, Amount, Rng1} = draw(Rng0),
    element(Src + 1, Accts) ! {transfer, Dst, Amount, self()},
    Rng1.

teller(_Accts, _Rng, _Sent, N, N) -> ok;
teller(Accts, Rng, Sent, Done, N) ->
    receive
        transferred when Sent < N -> teller(Accts, teller_send(Accts, Rng), Sent + 1, Done + 1, N);
        transferred -> teller(Accts, Rng, Sent, Done + 1, N)
    end.

expected(_Rng, 0, Delta) -> Delta;
expected(Rng0, K, Delta) ->
    {Src, Dst, Amount, Rng1} = draw(Rng0),
    D1 = Delta#{Src => maps:get(Src, Delta, 0) - Amount},
    expected(Rng1, K - 1, D1#{Dst => maps:get(Dst, D1, 0) + Amount}).

%% An account with a credit request out (Busy) leaves further transfers in
%% its mailbox (selective receive) but still credits others.
account(undefined, Balance, Busy, Q, Teller) ->
    receive {accounts, Accts} -> account(Accts, Balance, Busy, Q, Teller) end;
account(Accts, Balance, false, Q, _Teller) ->
    receive
        {transfer, Dst, Amount, Teller} ->
            element(Dst + 1, Accts) ! {credit, Amount, self()},
            account(Accts, Balance - Amount, true, Q, Teller);
        {credit, Amount, From} ->
            From ! credited,
            account(Accts, Balance + Amount, false, Q, undefined);
        {get, Report} -> Report ! {balance, Balance}
    end;
account(Accts, Balance, true, Q, Teller) ->
    receive
        {credit, Amount, From} ->
            From ! credited,
            account(Accts, Balance + Amount, true, Q, Teller);
        credited ->
            Teller ! transferred,
            account(Accts, Balance, false, Q, undefined)
    end.

%% ---------------------------------------------------------------------------
%% trapezoid and fib

trap_f(X) ->
    A = math:sin(math:pow(X, 3) - 1),
    B = X + 1,
    C = A / B,
    D = math:sqrt(1 + math:exp(math:sqrt(2 * X))),
    C * D.

trap_area(From, To, N) -> trap_area(From, To, 4.0 / N, 0.0).

trap_area(I, To, _H, Acc) when I >= To -> Acc;
trap_area(I, To, H, Acc) ->
    X = 1.0 + I * H,
    trap_area(I + 1, To, H, Acc + H * (trap_f(X) + trap_f(X + H)) / 2).

trap_worker(Master, From, To, N) -> Master ! {area, trap_area(From, To, N)}.

fib(Parent, K) when K =< 2 -> Parent ! {fib, 1};
fib(Parent, K) ->
    spawn(?MODULE, fib, [self(), K - 1]),
    spawn(?MODULE, fib, [self(), K - 2]),
    A = receive {fib, V1} -> V1 end,
    B = receive {fib, V2} -> V2 end,
    Parent ! {fib, A + B}.

fib_iter(N) -> fib_iter(N, 1, 1).
fib_iter(N, A, _B) when N =< 1 -> A;
fib_iter(2, _A, B) -> B;
fib_iter(N, A, B) -> fib_iter(N - 1, B, A + B).
