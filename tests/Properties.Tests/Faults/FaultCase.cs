using System.Text;
using DmaSg.Actors.Protocol;
using DmaSg.Memory;
using DmaSg.Properties.Tests.Model;
using DmaSg.Properties.Tests.Sequential;
using DmaSg.Properties.Tests.Support;
using DmaSg.Properties.Tests.Sut;
using FsCheck;
using FsCheck.Fluent;
using Outcome = DmaSg.Properties.Tests.Model.Outcome;

namespace DmaSg.Properties.Tests.Faults;

/// <summary>Where a fault goes: a function of the state the sequence has reached (null: nothing to hit there).</summary>
public delegate Op? FaultAt(World w, IReadOnlyList<Op> rest, Random rnd);

/// <summary>
/// A short sequence of calls and a fault to inject at every state of it: for each position k a fresh system runs
/// calls 0..k-1, the fault, then the rest. Every reply must still be the model's (typed failures for whatever the
/// fault took away) and the end-of-case release must find nothing leaked.
/// </summary>
public sealed record FaultCase(SetupSpec Spec, IReadOnlyList<Op> Ops, int Seed)
{
    public static Gen<FaultCase> Generator(int minLength, int maxLength) =>
        from spec in DmaSgMachine.DefaultSetups
        from length in Gen.Choose(minLength, maxLength)
        from seed in Gen.Choose(0, int.MaxValue)
        select Build(spec, length, seed);

    /// <summary>Drops one call at a time, and with it the calls that named what it created.</summary>
    public static IEnumerable<FaultCase> Shrink(FaultCase c) =>
        Enumerable.Range(0, c.Ops.Count).Select(i => c with { Ops = Clean(c.Ops.Where((_, k) => k != i)) });

    /// <summary>Keeps only calls whose objects an earlier kept call creates.</summary>
    private static Op[] Clean(IEnumerable<Op> ops)
    {
        var made = new HashSet<int>();
        var kept = new List<Op>();
        foreach (Op op in ops.Where(op => op.Uses.All(t => t < World.FirstObjectTag || made.Contains(t))))
        {
            kept.Add(op);
            made.UnionWith(op.Creates);
        }

        return kept.ToArray();
    }

    public override string ToString()
    {
        var sb = new StringBuilder().AppendLine($"setup: {Spec} (fault seed {Seed})");
        foreach (Op op in Ops)
        {
            sb.AppendLine($"      {op.Call}");
        }

        return sb.ToString();
    }

    /// <summary>Runs the sequence once per state with <paramref name="fault"/> injected there; the first failure, or null.</summary>
    public async Task<string?> RunAtEveryState(FaultAt fault)
    {
        for (int k = 0; k <= Ops.Count; k++)
        {
            // The fault depends only on the state reached and the case's seed, so a replay hits the same thing.
            World w = World.Initial(Spec.Pages, Spec.Holders);
            foreach (Op op in Ops.Take(k).Where(op => op.Pre(w)))
            {
                w = op.Step(w)[0].World.Drain();
            }

            if (fault(w, Ops.Skip(k).ToArray(), new Random(Seed + k)) is not { } injected)
            {
                continue;
            }

            Op[] ops = [.. Ops.Take(k), injected, .. Ops.Skip(k)];
            if (await RunSequence(Spec, ops).ConfigureAwait(false) is { } failure)
            {
                return $"with \"{injected.Call}\" after call {k}:{Environment.NewLine}{failure}";
            }
        }

        return null;
    }

    /// <summary>Runs calls in order on a fresh system, model-checked, skipping calls whose precondition no longer holds.</summary>
    public static async Task<string?> RunSequence(SetupSpec spec, IReadOnlyList<Op> ops)
    {
        await using Sut.Sut sut = await Sut.Sut.Start(spec).ConfigureAwait(false);
        string? failure = null;
        try
        {
            World w = sut.Model!;
            foreach (Op op in ops.Where(_ => failure is null))
            {
                if (!op.Pre(w))
                {
                    continue;
                }

                sut.Ops++;
                (w, failure) = await Driver.StepBoth(sut, w, op).ConfigureAwait(false);
            }

            failure ??= await Driver.ReleaseAll(sut, w).ConfigureAwait(false);
            return failure is null ? null : $"{failure}{Environment.NewLine}calls and replies:{Environment.NewLine}  {string.Join($"{Environment.NewLine}  ", sut.Log)}";
        }
        finally
        {
            sut.Failure = failure;
            await sut.DisposeAsync().ConfigureAwait(false);
            CaseStats.Record(sut);
        }
    }

    /// <summary>
    /// Allocation failure at every point of one Allocate: first counts the page-block allocations it makes, then
    /// fails each one in turn (and all at once), on one system whose state must not change in between.
    /// </summary>
    public async Task<string?> RunAllocFaults(int holder, int pagesWanted, Memory.Dma.DmaDirection dir, string dev)
    {
        await using Sut.Sut sut = await Sut.Sut.Start(Spec).ConfigureAwait(false);
        string? failure = null;
        try
        {
            World w = sut.Model!;
            foreach (Op op in Ops.Where(_ => failure is null))
            {
                if (op.Pre(w))
                {
                    sut.Ops++;
                    (w, failure) = await Driver.StepBoth(sut, w, op).ConfigureAwait(false);
                }
            }

            // A size one byte short of whole pages, as many as are free (up to the wish).
            long size = (Math.Min(pagesWanted, w.FreePages) * w.PageSize) - 1;
            if (failure is null && size > 0 && new AllocUnderFaultOp(holder, size, dir, dev, 1).Pre(w))
            {
                // How many block allocations does this Allocate make here? Count them without failing any.
                sut.Injector.Arm(int.MaxValue);
                IDmaSgReply probe = await sut.Ask(sut.Allocator, new Allocate(size, dir, dev, sut.TryGet(holder, out var h) ? h : Akka.Actor.ActorRefs.Nobody)).ConfigureAwait(false);
                int blocks = sut.Injector.Count;
                sut.Injector.Disarm();
                if (probe is not BufferCreated created)
                {
                    failure = $"the probe Allocate({size}) answered {Outcome.Of(probe)} with {w.FreePages} pages free";
                }
                else
                {
                    await sut.Ask(created.Buffer, new Put(h)).ConfigureAwait(false);
                    sut.Log.Enqueue($"(probe: Allocate({size}) makes {blocks} page-block allocations)");
                    for (int nth = 0; nth <= blocks + 1 && failure is null; nth++)
                    {
                        sut.Ops++;
                        (w, failure) = await Driver.StepBoth(sut, w, new AllocUnderFaultOp(holder, size, dir, dev, nth)).ConfigureAwait(false);
                    }
                }
            }

            failure ??= await Driver.ReleaseAll(sut, w).ConfigureAwait(false);
            return failure is null ? null : $"{failure}{Environment.NewLine}calls and replies:{Environment.NewLine}  {string.Join($"{Environment.NewLine}  ", sut.Log)}";
        }
        finally
        {
            sut.Failure = failure;
            await sut.DisposeAsync().ConfigureAwait(false);
            CaseStats.Record(sut);
        }
    }

    private static FaultCase Build(SetupSpec spec, int length, int seed)
    {
        var rnd = new Random(seed);
        World w = World.Initial(spec.Pages, spec.Holders);
        var ops = new List<Op>();
        for (int i = 0; i < length; i++)
        {
            // Faults come from the injection under test, so the sequence itself is fault-free and builds up state.
            Op op = OpGen.Pick(w, rnd, faults: 0);
            ops.Add(op);
            w = op.Step(w)[0].World.Drain();
        }

        return new FaultCase(spec, ops, seed);
    }
}
