using DmaSg.Memory.Dma;
using DmaSg.Properties.Tests.Model;
using DmaSg.Properties.Tests.Sequential;
using DmaSg.Properties.Tests.Support;
using FsCheck;
using FsCheck.Experimental;
using FsCheck.Fluent;
using Xunit.Abstractions;

namespace DmaSg.Properties.Tests.Faults;

/// <summary>
/// Section 3: fault injection. Page-block allocation failures, map failures, actors stopped or killed from outside,
/// and holder deaths, each at every point of a sequence. Survivors get typed replies; nothing leaks.
/// </summary>
public class FaultProperties(ITestOutputHelper output)
{
    private static readonly StopMode[] Modes = [StopMode.PoisonPill, StopMode.Kill, StopMode.Stop];

    [Fact]
    public void Faults_anywhere_in_a_sequence_leave_typed_replies_and_no_leaks()
    {
        // The model-based machine with faults (kills, holder deaths, map and allocation failures) five times as often.
        PropRunner.Check(
            nameof(Faults_anywhere_in_a_sequence_leave_typed_replies_and_no_leaks),
            new DmaSgMachine(w => OpGen.Next(w, faults: 5)).ToProperty(),
            maxTest: PropRunner.Budget(2000),
            endSize: 30,
            output,
            DmaSgMachine.Render,
            DmaSgMachine.Replay);
    }

    [Fact]
    public void Every_page_block_allocation_of_an_allocate_can_fail_and_nothing_changes()
    {
        Gen<(FaultCase Case, int Pages, DmaDirection Dir, string Dev)> cases =
            from c in FaultCase.Generator(0, 8)
            from pages in Gen.Choose(1, 24)
            from dir in Gen.Elements(DmaDirection.ToDevice, DmaDirection.FromDevice, DmaDirection.Bidirectional)
            from dev in Gen.Elements(World.Coherent, World.Iommu, World.Bounce)
            select (c, pages, dir, dev);
        Check(
            nameof(Every_page_block_allocation_of_an_allocate_can_fail_and_nothing_changes),
            Arb.From(cases, x => FaultCase.Shrink(x.Case).Select(c => x with { Case = c })),
            x => x.Case.RunAllocFaults(1, x.Pages, x.Dir, x.Dev),
            x => $"{x.Case}then every block allocation of h1.Allocate(up to {x.Pages} pages - 1 byte, {x.Dir}, \"{x.Dev}\") fails in turn",
            ci: 500);
    }

    [Fact]
    public void A_holder_dying_at_any_state_drops_exactly_its_refs()
    {
        CheckEveryState(nameof(A_holder_dying_at_any_state_drops_exactly_its_refs), ci: 150, (w, rest, rnd) =>
        {
            int[] alive = w.Holders.Values.Where(h => h.Alive).Select(h => h.Tag).ToArray();
            return alive.Length == 0 ? null : new KillHolderOp(alive[rnd.Next(alive.Length)], Modes[rnd.Next(Modes.Length)]);
        });
    }

    [Fact]
    public void A_map_failing_at_any_point_is_a_typed_reply_and_undone()
    {
        CheckEveryState(nameof(A_map_failing_at_any_point_is_a_typed_reply_and_undone), ci: 100, (w, rest, rnd) =>
        {
            // Arm the device the next mapping call will use, so every map site of the sequence gets its turn.
            World state = w;
            foreach (Op op in rest)
            {
                if (op.Pre(state) && op.MapsOn(state) is { } dev && state.Devs.ContainsKey(dev))
                {
                    return new ArmMapFaultOp(dev);
                }

                state = op.Pre(state) ? op.Step(state)[0].World.Drain() : state;
            }

            return null;
        });
    }

    [Fact]
    public void An_actor_stopped_or_killed_at_any_state_leaves_typed_replies_and_no_leaks()
    {
        CheckEveryState(nameof(An_actor_stopped_or_killed_at_any_state_leaves_typed_replies_and_no_leaks), ci: 100, (w, rest, rnd) =>
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
    }

    private void CheckEveryState(string name, int ci, FaultAt fault) =>
        Check(name, Arb.From(FaultCase.Generator(2, 8), FaultCase.Shrink), c => c.RunAtEveryState(fault), c => c.ToString(), ci);

    private void Check<T>(string name, Arbitrary<T> cases, Func<T, Task<string?>> run, Func<T, string> render, int ci) =>
        PropRunner.Check(
            name,
            Prop.ForAll(cases, c => run(c).GetAwaiter().GetResult() is not { } failure ? Prop.ToProperty(true) : Prop.Label(false, failure)),
            maxTest: PropRunner.Budget(ci),
            endSize: 100,
            output,
            o => render((T)o));
}
