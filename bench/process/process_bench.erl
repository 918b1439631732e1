%% The process suite's Erlang baseline (bench/suites/process.ts): the same
%% spawn and ring programs as rxwire's and nact's, run with
%%   erl -noshell +S N -eval '... process_bench:main(["spawn", "100000"]) ...'
%% (compiled in memory by the runner, bench/process/erlang.ts). Prints one
%% line of key=value pairs, which the runner parses:
%%   spawn N        -> spawn_us=<µs per process> heap_bytes=<B> rss_bytes=<B>
%%                     (erlang:memory(processes) and the OS's VmRSS growth
%%                     divided by N, the N processes alive and idle)
%%   ring SIZE HOPS -> hops_per_s=<hops/s> (a token passed HOPS times
%%                     around SIZE processes)
-module(process_bench).
-export([main/1]).

main(["spawn", N]) -> spawn_bench(list_to_integer(N));
main(["ring", Size, Hops]) -> ring_bench(list_to_integer(Size), list_to_integer(Hops)).

%% Spawns N processes that wait for `stop`; times the spawning and measures
%% the memory the idle processes hold.
spawn_bench(N) ->
    erlang:garbage_collect(),
    Heap0 = erlang:memory(processes),
    Rss0 = rss(),
    T0 = erlang:monotonic_time(nanosecond),
    Pids = spawn_idle(N, []),
    T1 = erlang:monotonic_time(nanosecond),
    erlang:garbage_collect(),
    Heap1 = erlang:memory(processes),
    Rss1 = rss(),
    N = length([P || P <- Pids, is_process_alive(P)]),
    [P ! stop || P <- Pids],
    io:format("spawn_us=~f heap_bytes=~f rss_bytes=~f~n",
              [(T1 - T0) / 1000 / N, (Heap1 - Heap0) / N, (Rss1 - Rss0) / N]).

spawn_idle(0, Acc) -> Acc;
spawn_idle(K, Acc) -> spawn_idle(K - 1, [spawn(fun idle/0) | Acc]).

idle() -> receive stop -> ok end.

%% Builds a ring of Size processes, each forwarding the token to the next,
%% and times HOPS passes of it; the process that receives the token at 0
%% tells this one.
ring_bench(Size, Hops) ->
    Main = self(),
    First = spawn(fun() -> receive {next, Next} -> relay(Next, Main) end end),
    Last = lists:foldl(fun(_, Prev) -> spawn(fun() -> relay(Prev, Main) end) end,
                       First, lists:seq(2, Size)),
    First ! {next, Last},
    T0 = erlang:monotonic_time(nanosecond),
    First ! {token, Hops},
    receive done -> ok end,
    T1 = erlang:monotonic_time(nanosecond),
    io:format("hops_per_s=~f~n", [Hops / ((T1 - T0) / 1.0e9)]).

relay(Next, Main) ->
    receive
        {token, 0} -> Main ! done, relay(Next, Main);
        {token, K} -> Next ! {token, K - 1}, relay(Next, Main)
    end.

%% This OS process's resident set, in bytes (Linux: VmRSS in /proc/self/status).
rss() ->
    {ok, Status} = file:read_file("/proc/self/status"),
    {match, [Kb]} = re:run(Status, "VmRSS:\\s+(\\d+) kB", [{capture, all_but_first, list}]),
    list_to_integer(Kb) * 1024.
