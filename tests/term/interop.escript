%% tests/term/interop.escript IN OUT: for the term suite (tests/term_test.c).
%% IN has one case a line: "SOURCE\tHEX", SOURCE an Erlang term in source
%% syntax, HEX the bytes fauxtp built for it (or "-" for none). OUT gets,
%% a line each: "same" or "differ" (HEX decodes to the term SOURCE denotes,
%% =:=), the hex of term_to_binary(Term), and io_lib:format("~w", [Term]).
main([In, Out]) ->
    {ok, Bin} = file:read_file(In),
    Lines = [L || L <- binary:split(Bin, <<"\n">>, [global]), L =/= <<>>],
    Res = [one(L) || L <- Lines],
    ok = file:write_file(Out, Res).

one(Line) ->
    [Src, Hex] = binary:split(Line, <<"\t">>),
    {ok, Toks, _} = erl_scan:string(binary_to_list(Src) ++ "."),
    {ok, [Expr]} = erl_parse:parse_exprs(Toks),
    {value, Term, _} = erl_eval:expr(Expr, []),
    Same = case Hex of
               <<"-">> -> "-";
               _ ->
                   Ours = binary:decode_hex(Hex),
                   case catch binary_to_term(Ours) of
                       T when T =:= Term -> "same";
                       _ -> "differ"
                   end
           end,
    [Same, "\t", binary:encode_hex(term_to_binary(Term)), "\t",
     io_lib:format("~w", [Term]), "\n"].
