using DmaSg.Memory.Dma;
using DmaSg.Properties.Tests.Faults;
using DmaSg.Properties.Tests.Model;
using DmaSg.Properties.Tests.Parallel;
using DmaSg.Properties.Tests.Sequential;
using FsCheck;
using FsCheck.Experimental;
using FsCheck.Fluent;
using Xunit.Abstractions;

namespace DmaSg.Properties.Tests.Support;

/// <summary>
/// Every property of the project with its CI budget, callable with another budget and seed (the soak mode runs
/// them round after round with fresh seeds).
/// </summary>
public static class Suite
{
    private static readonly StopMode[] Modes = [StopMode.PoisonPill, StopMode.Kill, StopMode.Stop];

    /// <summary>Name, CI budget, and how to run it (cases, output, seed).</summary>
    public static IReadOnlyList<(string Name, int Budget, Action<int, ITestOutputHelper?, ulong?> Run)> All { get; } =
    [
        (nameof(Model), 6000, Model),
        (nameof(FaultyModel), 2500, FaultyModel),
        (nameof(AllocFaults), 600, AllocFaults),
        (nameof(HolderDeath), 200, HolderDeath),
        (nameof(MapFaults), 150, MapFaults),
        (nameof(ActorKills), 150, ActorKills),
        (nameof(Races), 350, Races),
    ];

    public static int BudgetOf(string name) => All.Single(p => p.Name == name).Budget;

    /// <summary>Section 1: every call answers as the model predicts and the settled state follows it.</summary>
    public static void Model(int cases, ITestOutputHelper? output, ulong? seed = null) =>
        PropRunner.Check("model-based sequences", new DmaSgMachine().ToProperty(), cases, endSize: 36, output,
            DmaSgMachine.Render, DmaSgMachine.Replay, seed);

    /// <summary>Section 3: the machine with faults (kills, holder deaths, map and allocation failures) five times as often.</summary>
    public static void FaultyModel(int cases, ITestOutputHelper? output, ulong? seed = null) =>
        PropRunner.Check("model-based sequences, fault-heavy", new DmaSgMachine(w => OpGen.Next(w, faults: 5)).ToProperty(), cases, endSize: 30,
            output, DmaSgMachine.Render, DmaSgMachine.Replay, seed);

    /// <summary>Section 3: every page-block allocation of one Allocate fails in turn (and all at once); nothing changes.</summary>
    public static void AllocFaults(int cases, ITestOutputHelper? output, ulong? seed = null)
    {
        Gen<(FaultCase Case, int Pages, DmaDirection Dir, string Dev)> gen =
            from c in FaultCase.Generator(0, 8)
            from pages in Gen.Choose(1, 24)
            from dir in Gen.Elements(DmaDirection.ToDevice, DmaDirection.FromDevice, DmaDirection.Bidirectional)
            from dev in Gen.Elements(World.Coherent, World.Iommu, World.Bounce)
            select (c, pages, dir, dev);
        Check("page-block allocation failure at every point", Arb.From(gen, x => FaultCase.Shrink(x.Case).Select(c => x with { Case = c })),
            x => x.Case.RunAllocFaults(1, x.Pages, x.Dir, x.Dev),
            x => $"{x.Case}then every block allocation of h1.Allocate(up to {x.Pages} pages - 1 byte, {x.Dir}, \"{x.Dev}\") fails in turn",
            cases, output, seed);
    }

    /// <summary>Section 3: a holder dies at every state of a sequence.</summary>
    public static void HolderDeath(int cases, ITestOutputHelper? output, ulong? seed = null) =>
        EveryState("holder death at every state", cases, output, seed, (w, rest, rnd) =>
        {
            int[] alive = w.Holders.Values.Where(h => h.Alive).Select(h => h.Tag).ToArray();
            return alive.Length == 0 ? null : new KillHolderOp(alive[rnd.Next(alive.Length)], Modes[rnd.Next(Modes.Length)]);
        });

    /// <summary>Section 3: the next map of the next mapping call fails, at every state of a sequence.</summary>
    public static void MapFaults(int cases, ITestOutputHelper? output, ulong? seed = null) =>
        EveryState("map failure at every point", cases, output, seed, (w, rest, rnd) =>
        {
            // Arm the device the next mapping call will use, so every map site of the sequence gets its turn.
            World state = w;
            foreach (Op op in rest)
            {
                if (!op.Pre(state))
                {
                    continue;
                }

                if (op.MapsOn(state) is { } dev && state.Devs.ContainsKey(dev))
                {
                    return new ArmMapFaultOp(dev);
                }

                state = op.Step(state)[0].World.Drain();
            }

            return null;
        });

    /// <summary>Section 3: a buffer, dmabuf, attachment or importer actor is stopped or killed at every state of a sequence.</summary>
    public static void ActorKills(int cases, ITestOutputHelper? output, ulong? seed = null) =>
        EveryState("actor stop/kill at every state", cases, output, seed, (w, rest, rnd) =>
        {
            (Target, int)[] targets =
            [
                .. w.Bufs.Values.Where(b => !b.Released).Select(b => (Target.Buffer, b.Tag)),
                .. w.DBufs.Values.Where(d => !d.Released).Select(d => (Target.DmaBuf, d.Tag)),
                .. w.Atts.Values.Where(a => a.Alive).Select(a => (Target.Attachment, a.Tag)),
                .. w.Imps.Values.Where(i => i.State != ImpState.Stopped).Select(i => (Target.Importer, i.Tag)),
            ];
            if (targets.Length == 0)
            {
                return null;
            }

            (Target t, int tag) = targets[rnd.Next(targets.Length)];
            return new KillOp(t, tag, Modes[rnd.Next(Modes.Length)]);
        });

    /// <summary>Section 2: concurrent branches are linearizable and leave a state the model allows.</summary>
    public static void Races(int cases, ITestOutputHelper? output, ulong? seed = null) =>
        Check("concurrent branches", Arb.From(ParallelCase.Generator(), ParallelCase.Shrink), c => c.Run(), c => c.ToString(), cases, output, seed,
            async c => await c.Run() is { } failure ? $"re-run: {failure}" : "re-run passed (timing-dependent)");

    private static void EveryState(string name, int cases, ITestOutputHelper? output, ulong? seed, FaultAt fault) =>
        Check(name, Arb.From(FaultCase.Generator(2, 8), FaultCase.Shrink), c => c.RunAtEveryState(fault), c => c.ToString(), cases, output, seed);

    private static void Check<T>(string name, Arbitrary<T> cases, Func<T, Task<string?>> run, Func<T, string> render, int maxTest,
        ITestOutputHelper? output, ulong? seed, Func<T, Task<string>>? replay = null) =>
        PropRunner.Check(
            name,
            Prop.ForAll(cases, c => run(c).GetAwaiter().GetResult() is not { } failure ? Prop.ToProperty(true) : Prop.Label(false, failure)),
            maxTest,
            endSize: 100,
            output,
            o => render((T)o),
            replay is null ? null : o => replay((T)o),
            seed);
}
