%% peer_http -- the Erlang/OTP peer of the I/O benchmark (issue 14,
%% docs/benchmarks.md "Server I/O"): gen_tcp with {active, N}, one process
%% per connection, answering every complete request head (pipelined ones
%% included) with the same plaintext bytes as the other systems, in one
%% send per read. Listens on 127.0.0.1:PORT (0: any free port), prints
%% "port N". Run: erl -noshell +S T:T -pa DIR -s peer_http main -extra PORT
-module(peer_http).
-export([main/0, acceptor/1, conn/1]).

-define(RESP, <<"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n"
                "Content-Type: text/plain\r\n\r\nHello, World!">>).
-define(ACTIVE, 100).

main() ->
    [PortArg | _] = init:get_plain_arguments(),
    {ok, L} = gen_tcp:listen(list_to_integer(PortArg),
                             [binary, {packet, raw}, {active, false}, {nodelay, true},
                              {reuseaddr, true}, {backlog, 4096}, {ip, {127, 0, 0, 1}}]),
    {ok, Port} = inet:port(L),
    io:format("port ~b~n", [Port]),
    acceptor(L).

acceptor(L) ->
    case gen_tcp:accept(L) of
        {ok, S} ->
            P = spawn(?MODULE, conn, [S]),
            ok = gen_tcp:controlling_process(S, P),
            P ! go;
        _ -> ok
    end,
    acceptor(L).

conn(S) ->
    receive go -> ok end,
    ok = inet:setopts(S, [{active, ?ACTIVE}]),
    loop(S, <<>>).

loop(S, Buf) ->
    receive
        {tcp, S, Data} ->
            {N, Rest} = heads(<<Buf/binary, Data/binary>>, 0),
            case N of
                0 -> loop(S, Rest);
                _ ->
                    case gen_tcp:send(S, binary:copy(?RESP, N)) of
                        ok -> loop(S, Rest);
                        _ -> gen_tcp:close(S)
                    end
            end;
        {tcp_passive, S} ->
            ok = inet:setopts(S, [{active, ?ACTIVE}]),
            loop(S, Buf);
        {tcp_closed, S} -> ok;
        {tcp_error, S, _} -> gen_tcp:close(S)
    end.

%% Counts the complete heads (ending in CRLF CRLF); returns the rest.
heads(Bin, N) ->
    case binary:match(Bin, <<"\r\n\r\n">>) of
        {Pos, 4} ->
            heads(binary:part(Bin, Pos + 4, byte_size(Bin) - Pos - 4), N + 1);
        nomatch -> {N, Bin}
    end.
