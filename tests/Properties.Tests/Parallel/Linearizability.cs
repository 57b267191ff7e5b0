namespace DmaSg.Properties.Tests.Parallel;

/// <summary>One call of a concurrent history: what was called, what came back, and when (Stopwatch ticks).</summary>
public sealed record Event<TOp, TObs>(int Branch, int Index, TOp Op, TObs Observed, long Invoked, long Returned);

/// <summary>The verdict: whether some interleaving explains every reply, one such interleaving, and the final states reachable.</summary>
public sealed record Verdict<TState>(bool Linearizable, IReadOnlyList<string> Witness, IReadOnlyList<TState> Finals, int Explored, bool Exhausted);

/// <summary>
/// A small linearizability checker in the style of quickcheck-state-machine and rapidcheck, with one addition:
/// internal steps. Branches are sequences of calls run concurrently; the history is accepted when the calls can be
/// ordered (keeping each branch's order, and real-time order: a call that returned before another was invoked comes
/// first) so that stepping the sequential model along that order predicts every observed reply. Internal steps are
/// work the system does on its own after a call replied (here: DeathWatch notifications); the search may place each
/// pending one at any point. A memo of (positions, state) keeps the search polynomial in practice.
/// </summary>
public static class Linearizability
{
    /// <param name="initial">The model state when the branches start.</param>
    /// <param name="branches">Each branch's calls in the order it made them.</param>
    /// <param name="step">The model: the possible (next state, reply) of a call.</param>
    /// <param name="internalSteps">Work the system may do now on its own: (next state, what happened).</param>
    /// <param name="key">A canonical key of a state (for the memo and to tell final states apart).</param>
    /// <param name="finish">Completes a final state (runs the internal work left).</param>
    /// <param name="describe">How a call prints in the witness.</param>
    /// <param name="maxFinals">Stop collecting final states after this many.</param>
    /// <param name="budget">Stop after visiting this many nodes (the verdict says so).</param>
    public static Verdict<TState> Check<TState, TOp, TObs>(
        TState initial,
        IReadOnlyList<IReadOnlyList<Event<TOp, TObs>>> branches,
        Func<TState, TOp, IEnumerable<(TState State, TObs Reply)>> step,
        Func<TState, IEnumerable<(TState State, string What)>> internalSteps,
        Func<TState, string> key,
        Func<TState, TState> finish,
        Func<Event<TOp, TObs>, string> describe,
        int maxFinals = 32,
        int budget = 200_000)
        where TObs : notnull
    {
        var search = new Search<TState, TOp, TObs>(branches, step, internalSteps, key, finish, describe, maxFinals, budget);
        search.Run(initial);
        return new Verdict<TState>(search.Witness is not null, search.Witness ?? [], search.Finals, search.Visited.Count, search.Exhausted);
    }

    private sealed class Search<TState, TOp, TObs>(
        IReadOnlyList<IReadOnlyList<Event<TOp, TObs>>> branches,
        Func<TState, TOp, IEnumerable<(TState State, TObs Reply)>> step,
        Func<TState, IEnumerable<(TState State, string What)>> internalSteps,
        Func<TState, string> key,
        Func<TState, TState> finish,
        Func<Event<TOp, TObs>, string> describe,
        int maxFinals,
        int budget)
        where TObs : notnull
    {
        private readonly List<string> _path = [];
        private readonly HashSet<string> _finalKeys = [];

        public HashSet<string> Visited { get; } = [];

        public List<TState> Finals { get; } = [];

        public List<string>? Witness { get; private set; }

        public bool Exhausted { get; private set; }

        public void Run(TState initial) => Visit(new int[branches.Count], initial);

        private void Visit(int[] pos, TState state)
        {
            if (Finals.Count >= maxFinals)
            {
                return;
            }

            if (Visited.Count >= budget)
            {
                Exhausted = true;
                return;
            }

            if (!Visited.Add($"{string.Join(",", pos)}|{key(state)}"))
            {
                return;
            }

            bool done = true;
            for (int b = 0; b < branches.Count; b++)
            {
                if (pos[b] >= branches[b].Count)
                {
                    continue;
                }

                done = false;
                Event<TOp, TObs> e = branches[b][pos[b]];
                if (!MayGoNext(pos, b, e))
                {
                    continue;
                }

                foreach ((TState next, TObs reply) in step(state, e.Op))
                {
                    if (!EqualityComparer<TObs>.Default.Equals(reply, e.Observed))
                    {
                        continue;
                    }

                    pos[b]++;
                    _path.Add(describe(e));
                    Visit(pos, next);
                    _path.RemoveAt(_path.Count - 1);
                    pos[b]--;
                }
            }

            if (done)
            {
                TState final = finish(state);
                if (_finalKeys.Add(key(final)))
                {
                    Finals.Add(final);
                }

                Witness ??= [.. _path];
                return;
            }

            foreach ((TState next, string what) in internalSteps(state))
            {
                _path.Add($"    ({what})");
                Visit(pos, next);
                _path.RemoveAt(_path.Count - 1);
            }
        }

        /// <summary>Real-time order: no call still to be placed may have returned before this one was invoked.</summary>
        private bool MayGoNext(int[] pos, int branch, Event<TOp, TObs> e)
        {
            for (int b = 0; b < branches.Count; b++)
            {
                if (b != branch && pos[b] < branches[b].Count && branches[b][pos[b]].Returned < e.Invoked)
                {
                    return false;
                }
            }

            return true;
        }
    }
}
