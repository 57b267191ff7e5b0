using System.Diagnostics;
using System.Text;
using DmaSg.Properties.Tests.Model;
using DmaSg.Properties.Tests.Sequential;
using DmaSg.Properties.Tests.Support;
using DmaSg.Properties.Tests.Sut;
using FsCheck;
using FsCheck.Fluent;
using Outcome = DmaSg.Properties.Tests.Model.Outcome;

namespace DmaSg.Properties.Tests.Parallel;

/// <summary>A sequential prefix, then two or three branches of up to five calls run at the same time.</summary>
public sealed record ParallelCase(SetupSpec Spec, IReadOnlyList<Op> Prefix, IReadOnlyList<IReadOnlyList<Op>> Branches)
{
    /// <summary>How often each case runs: races are probabilistic.</summary>
    public static int Repeats { get; } = int.TryParse(Environment.GetEnvironmentVariable("DMASG_PROPS_REPEATS"), out int r) ? r : 3;

    public static Gen<ParallelCase> Generator(Gen<SetupSpec>? setups = null) =>
        from spec in setups ?? DmaSgMachine.DefaultSetups
        from prefixLength in Gen.Choose(0, 8)
        from branchCount in Gen.Choose(2, 3)
        from seed in Gen.Choose(0, int.MaxValue)
        select Build(spec, prefixLength, branchCount, new Random(seed));

    /// <summary>
    /// Smaller cases: a branch fewer, one call fewer anywhere, a branch's first call moved into the prefix. Calls left
    /// naming an object nothing creates any more are dropped with it, so a counterexample has no dangling calls.
    /// </summary>
    public static IEnumerable<ParallelCase> Shrink(ParallelCase c) =>
        Candidates(c).Select(Clean).Where(s => s.Branches.Count > 0 && s.Branches.Sum(b => b.Count) > 0);

    private static IEnumerable<ParallelCase> Candidates(ParallelCase c)
    {
        for (int b = 0; b < c.Branches.Count; b++)
        {
            yield return c with { Branches = c.Branches.Where((_, i) => i != b).ToArray() };
        }

        for (int b = 0; b < c.Branches.Count; b++)
        {
            for (int i = 0; i < c.Branches[b].Count; i++)
            {
                IReadOnlyList<Op>[] branches = [.. c.Branches];
                branches[b] = c.Branches[b].Where((_, k) => k != i).ToArray();
                yield return c with { Branches = branches };
            }
        }

        for (int i = 0; i < c.Prefix.Count; i++)
        {
            yield return c with { Prefix = c.Prefix.Where((_, k) => k != i).ToArray() };
        }

        for (int b = 0; b < c.Branches.Count; b++)
        {
            if (c.Branches[b].Count > 1)
            {
                IReadOnlyList<Op>[] branches = [.. c.Branches];
                branches[b] = c.Branches[b].Skip(1).ToArray();
                yield return c with { Prefix = [.. c.Prefix, c.Branches[b][0]], Branches = branches };
            }
        }
    }

    /// <summary>Drops calls that name an object no earlier call (in the prefix, or before them in their branch) creates.</summary>
    private static ParallelCase Clean(ParallelCase c)
    {
        var made = new HashSet<int>();
        var prefix = new List<Op>();
        foreach (Op op in c.Prefix.Where(op => op.Uses.All(t => t < World.FirstObjectTag || made.Contains(t))))
        {
            prefix.Add(op);
            made.UnionWith(op.Creates);
        }

        var branches = new List<IReadOnlyList<Op>>();
        foreach (IReadOnlyList<Op> branch in c.Branches)
        {
            var mine = new HashSet<int>(made);
            var ops = new List<Op>();
            foreach (Op op in branch.Where(op => op.Uses.All(t => t < World.FirstObjectTag || mine.Contains(t))))
            {
                ops.Add(op);
                mine.UnionWith(op.Creates);
            }

            if (ops.Count > 0)
            {
                branches.Add(ops);
            }
        }

        return c with { Prefix = prefix, Branches = branches };
    }

    public override string ToString()
    {
        var sb = new StringBuilder().AppendLine($"setup: {Spec}");
        foreach (Op op in Prefix)
        {
            sb.AppendLine($"      {op.Call}");
        }

        for (int b = 0; b < Branches.Count; b++)
        {
            sb.AppendLine($"  branch {b + 1}, at the same time as the others:");
            foreach (Op op in Branches[b])
            {
                sb.AppendLine($"      {op.Call}");
            }
        }

        return sb.ToString();
    }

    /// <summary>Runs the case <see cref="Repeats"/> times on fresh systems; the first failure, or null.</summary>
    public async Task<string?> Run()
    {
        for (int r = 0; r < Repeats; r++)
        {
            if (await RunOnce().ConfigureAwait(false) is { } failure)
            {
                return r == 0 ? failure : $"(run {r + 1} of {Repeats}) {failure}";
            }
        }

        return null;
    }

    private static ParallelCase Build(SetupSpec spec, int prefixLength, int branchCount, Random rnd)
    {
        World w = World.Initial(spec.Pages, spec.Holders);
        var prefix = new List<Op>();
        for (int i = 0; i < prefixLength; i++)
        {
            Op op = OpGen.Pick(w, rnd, raceSafe: true);
            prefix.Add(op);
            w = op.Step(w)[0].World.Drain();
        }

        // Each branch is generated as if it ran alone after the prefix; tags stay unique across branches.
        var branches = new List<IReadOnlyList<Op>>();
        int nextTag = w.NextTag;
        for (int b = 0; b < branchCount; b++)
        {
            World bw = w with { NextTag = nextTag };
            var ops = new List<Op>();
            int length = rnd.Next(1, 6);
            for (int i = 0; i < length; i++)
            {
                Op op = OpGen.Pick(bw, rnd, raceSafe: true);
                ops.Add(op);
                bw = op.Step(bw)[0].World.Drain();
            }

            nextTag = bw.NextTag;
            branches.Add(ops);
        }

        return new ParallelCase(spec, prefix, branches);
    }

    private async Task<string?> RunOnce()
    {
        await using Sut.Sut sut = await Sut.Sut.Start(Spec).ConfigureAwait(false);
        string? failure = null;
        try
        {
            World w = sut.Model!;
            foreach (Op op in Prefix)
            {
                (w, failure) = await Driver.StepBoth(sut, w, op).ConfigureAwait(false);
                sut.Ops++;
                if (failure is not null)
                {
                    return $"in the prefix: {failure}";
                }
            }

            IReadOnlyList<IReadOnlyList<Event<Op, Outcome>>> history = await RunBranches(sut).ConfigureAwait(false);
            sut.Ops += Branches.Sum(b => b.Count);
            Verdict<World> verdict = Check(w, history);
            if (!verdict.Linearizable)
            {
                failure = $"no interleaving explains the replies{(verdict.Exhausted ? " (search budget exhausted)" : string.Empty)}:{Environment.NewLine}{Render(history)}";
                return failure;
            }

            IReadOnlyList<IReadOnlyList<string>> finals = verdict.Finals.Select(f => f.View()).ToArray();
            if (await sut.SettleTo(finals).ConfigureAwait(false) is { } diff)
            {
                failure = $"the final state matches none of the {finals.Count} the model allows after:{Environment.NewLine}{Render(history)}{diff}";
                return failure;
            }

            // Release from the final state the system actually reached.
            IReadOnlyList<string> actual = await sut.Observe().ConfigureAwait(false);
            World final = verdict.Finals.First(f => f.View().SequenceEqual(actual));
            failure = await Driver.ReleaseAll(sut, final).ConfigureAwait(false);
            return failure is null ? null : $"end of case: {failure}{Environment.NewLine}after:{Environment.NewLine}{Render(history)}";
        }
        finally
        {
            sut.Failure = failure;
            await sut.DisposeAsync().ConfigureAwait(false);
            CaseStats.Record(sut);
        }
    }

    /// <summary>Each branch on its own thread, all released by one gate, each call timed from invocation to reply.</summary>
    private async Task<IReadOnlyList<IReadOnlyList<Event<Op, Outcome>>>> RunBranches(Sut.Sut sut)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<Event<Op, Outcome>[]>[] tasks = Branches.Select((ops, b) => Task.Run(async () =>
        {
            await gate.Task.ConfigureAwait(false);
            var events = new List<Event<Op, Outcome>>();
            foreach (Op op in ops)
            {
                long invoked = Stopwatch.GetTimestamp();
                Outcome outcome = await op.Execute(sut).ConfigureAwait(false);
                long returned = Stopwatch.GetTimestamp();

                // A call with two moments is two steps inside the same interval; one of them carries the reply.
                IReadOnlyList<Op> steps = op.LinearizationSteps;
                for (int s = 0; s < steps.Count; s++)
                {
                    events.Add(new Event<Op, Outcome>(b, events.Count, steps[s], s == op.ReplyStep ? op.UnderRaces(outcome) : Outcome.Done, invoked, returned));
                }
            }

            return events.ToArray();
        })).ToArray();
        gate.SetResult();
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    public static Verdict<World> Check(World start, IReadOnlyList<IReadOnlyList<Event<Op, Outcome>>> history) =>
        Linearizability.Check(
            start,
            history,
            (w, op) => op.Step(w),
            w => w.Pending.Select(e => (w.Apply(e), e.ToString())),
            w => w.Key(),
            w => w.Drain(),
            e => $"branch {e.Branch + 1}: {e.Op.Call} -> {e.Observed}");

    private static string Render(IReadOnlyList<IReadOnlyList<Event<Op, Outcome>>> history)
    {
        var sb = new StringBuilder();
        long t0 = history.SelectMany(b => b).Select(e => e.Invoked).DefaultIfEmpty(0).Min();
        foreach (Event<Op, Outcome> e in history.SelectMany(b => b).OrderBy(e => e.Invoked))
        {
            double from = (e.Invoked - t0) * 1e6 / Stopwatch.Frequency;
            double to = (e.Returned - t0) * 1e6 / Stopwatch.Frequency;
            sb.AppendLine($"    branch {e.Branch + 1} [{from,8:F0} .. {to,8:F0} us] {e.Op.Call,-60} -> {e.Observed}");
        }

        return sb.ToString();
    }
}
