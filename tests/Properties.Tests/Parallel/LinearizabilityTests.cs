using DmaSg.Memory;
using DmaSg.Memory.Dma;
using DmaSg.Properties.Tests.Model;

namespace DmaSg.Properties.Tests.Parallel;

/// <summary>The checker itself: it must accept what some interleaving explains and reject what none does.</summary>
public class LinearizabilityTests
{
    // A register: ("w", v) writes v and answers "ok"; ("r", _) answers the value.
    private static IEnumerable<(int, string)> Register(int state, (string Kind, int Value) op) =>
        op.Kind == "w" ? [(op.Value, "ok")] : [(state, state.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    private static Verdict<int> CheckRegister(params (string Kind, int Value, string Observed, long From, long To, int Branch)[] calls)
    {
        IReadOnlyList<IReadOnlyList<Event<(string, int), string>>> branches = calls
            .GroupBy(c => c.Branch)
            .OrderBy(g => g.Key)
            .Select(g => (IReadOnlyList<Event<(string, int), string>>)g
                .Select((c, i) => new Event<(string, int), string>(c.Branch, i, (c.Kind, c.Value), c.Observed, c.From, c.To))
                .ToArray())
            .ToArray();
        return Linearizability.Check(0, branches, Register, _ => [], s => s.ToString(System.Globalization.CultureInfo.InvariantCulture), s => s,
            e => $"{e.Op.Item1}{e.Op.Item2}->{e.Observed}");
    }

    [Fact]
    public void Overlapping_calls_may_take_effect_in_either_order()
    {
        // w1 overlaps r: the read may see the write or not.
        Assert.True(CheckRegister(("w", 1, "ok", 0, 10, 0), ("r", 0, "1", 5, 15, 1)).Linearizable);
        Assert.True(CheckRegister(("w", 1, "ok", 0, 10, 0), ("r", 0, "0", 5, 15, 1)).Linearizable);
    }

    [Fact]
    public void A_reply_no_order_explains_is_rejected()
    {
        Assert.False(CheckRegister(("w", 1, "ok", 0, 10, 0), ("r", 0, "2", 5, 15, 1)).Linearizable);
    }

    [Fact]
    public void A_call_that_returned_before_another_began_comes_first()
    {
        // The write finished at 10, the read began at 20: reading the old value is not linearizable.
        Assert.False(CheckRegister(("w", 1, "ok", 0, 10, 0), ("r", 0, "0", 20, 30, 1)).Linearizable);
        Assert.True(CheckRegister(("w", 1, "ok", 0, 10, 0), ("r", 0, "1", 20, 30, 1)).Linearizable);
    }

    [Fact]
    public void Each_branch_keeps_its_own_order()
    {
        // One branch writes 1 then 2; another reads 2 then 1 while both overlap everything: impossible.
        Verdict<int> v = CheckRegister(
            ("w", 1, "ok", 0, 100, 0), ("w", 2, "ok", 0, 100, 0),
            ("r", 0, "2", 0, 100, 1), ("r", 0, "1", 0, 100, 1));
        Assert.False(v.Linearizable);
    }

    [Fact]
    public void Every_final_state_an_explaining_order_reaches_is_reported()
    {
        Verdict<int> v = CheckRegister(("w", 1, "ok", 0, 10, 0), ("w", 2, "ok", 0, 10, 1));
        Assert.True(v.Linearizable);
        Assert.Equal([1, 2], v.Finals.Order());
    }

    [Fact]
    public void Internal_steps_can_be_placed_anywhere_after_their_cause()
    {
        // A counter with a delayed decrement: "put" answers at once, the decrement happens later on its own.
        static IEnumerable<((int Count, int Pending), string)> Step((int Count, int Pending) s, string op) => op switch
        {
            "put" => [((s.Count, s.Pending + 1), "ok")],
            _ => [(s, s.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))],
        };
        static IEnumerable<((int, int), string)> Internal((int Count, int Pending) s) =>
            s.Pending > 0 ? [((s.Count - 1, s.Pending - 1), "decrement")] : [];

        Verdict<(int, int)> Run(string read) => Linearizability.Check(
            (5, 0),
            [
                [new Event<string, string>(0, 0, "put", "ok", 0, 10)],
                [new Event<string, string>(1, 0, "get", read, 20, 30)],
            ],
            Step,
            Internal,
            s => s.ToString(),
            s => (s.Item1 - s.Item2, 0),
            e => e.Op);

        Assert.True(Run("5").Linearizable);  // the decrement had not happened yet
        Assert.True(Run("4").Linearizable);  // it had
        Assert.False(Run("3").Linearizable); // there was only one
        Assert.Equal([(4, 0)], Run("5").Finals);
    }

    [Fact]
    public void On_the_dmasg_model_a_dmabufs_dropped_buffer_ref_may_be_seen_late_but_not_early()
    {
        // After the prefix: b10 has h1's ref and d11's ref (2 users). Branch 1 puts the dmabuf's last ref; the buffer
        // drops d11's ref only when DeathWatch tells it. Branch 2 reads num_users at the same time.
        World w = World.Initial(16, 1);
        foreach (Op op in (Op[])[new AllocOp(10, 1, 4096, DmaDirection.ToDevice, World.Coherent), new ExportOp(11, 1, 10)])
        {
            w = op.Step(w)[0].World.Drain();
        }

        Verdict<World> Run(string numUsers, long readFrom) => ParallelCase.Check(w,
        [
            [new Event<Op, Outcome>(0, 0, new DPutOp(1, 11), Outcome.RefDropped(0), 0, 10)],
            [new Event<Op, Outcome>(1, 0, new BufferQueryOp(10, cookie: false), new Outcome(numUsers), readFrom, readFrom + 10)],
        ]);

        Assert.True(Run("NumUsers(2)", 5).Linearizable);
        Assert.True(Run("NumUsers(2)", 20).Linearizable); // after the put replied, the notification may still be on its way
        Assert.True(Run("NumUsers(1)", 20).Linearizable);
        Assert.False(Run("NumUsers(3)", 5).Linearizable);
        Assert.False(Run("NumUsers(0)", 20).Linearizable);
        Assert.Single(Run("NumUsers(1)", 20).Finals);
        Assert.Contains(Run("NumUsers(1)", 20).Finals[0].View(), l => l.StartsWith("b10: users 1 refs [h1:1]", StringComparison.Ordinal));
    }

    [Fact]
    public void On_the_dmasg_model_a_double_put_race_lets_exactly_one_put_free_the_buffer()
    {
        World w = new AllocOp(10, 1, 4096, DmaDirection.ToDevice, World.Coherent).Step(World.Initial(16, 2))[0].World;
        w = new AddRefOp(2, 10).Step(w)[0].World;

        Verdict<World> Run(string first, string second) => ParallelCase.Check(w,
        [
            [new Event<Op, Outcome>(0, 0, new PutOp(1, 10), new Outcome(first), 0, 10)],
            [new Event<Op, Outcome>(1, 0, new PutOp(2, 10), new Outcome(second), 0, 10)],
        ]);

        Assert.True(Run("RefDropped(1)", "RefDropped(0)").Linearizable);
        Assert.True(Run("RefDropped(0)", "RefDropped(1)").Linearizable);
        Assert.False(Run("RefDropped(1)", "RefDropped(1)").Linearizable); // a lost update
        Assert.False(Run("RefDropped(0)", "RefDropped(0)").Linearizable); // a double free
        Assert.False(Run("RefDropped(0)", $"{DmaSgError.UseAfterRelease}").Linearizable);
    }

    [Fact]
    public void On_the_dmasg_model_an_unplug_reports_before_the_checker_looks()
    {
        // Found by the soak: the allocator took the report after the checker's look, so a buffer freed in between
        // left a clean report next to a pending-mapping report. Now the unplug and report come first and the checker
        // second, as two steps of one call.
        World w = World.Initial(16, 1);
        Op remove = new RemoveDeviceOp(World.Coherent);
        Op alloc = new AllocOp(10, 1, 3 * 4096, DmaDirection.FromDevice, World.Coherent);
        Op put = new PutOp(1, 10);

        Verdict<World> Run(Outcome report) => ParallelCase.Check(w,
        [
            [
                new Event<Op, Outcome>(0, 0, remove.LinearizationSteps[0], report, 0, 300),
                new Event<Op, Outcome>(0, 1, remove.LinearizationSteps[1], Outcome.Done, 0, 300),
            ],
            [
                new Event<Op, Outcome>(1, 0, alloc, Outcome.Created(3, 3 * 4096), 1, 190),
                new Event<Op, Outcome>(1, 1, put, Outcome.RefDropped(0), 190, 290),
            ],
        ]);

        // Under races the report is compared by kind; the unplug may fall before the allocation (then it would have
        // failed: it did not), so the report is taken with the buffer live or freed, and the checker looks after it.
        Verdict<World> v = Run(remove.UnderRaces(Outcome.DeviceRemoved(0, 0)));
        Assert.True(v.Linearizable);
        Assert.Contains(v.Finals, f => f.View().Contains("dev coherent: refs 0 mappings 0 violations 1 removed True"));
        Assert.Contains(v.Finals, f => f.View().Contains("dev coherent: refs 0 mappings 0 violations 0 removed True"));

        // The order is fixed: the checker never looks before the unplug, so it cannot see a buffer the unplug refused.
        Verdict<World> refused = ParallelCase.Check(w,
        [
            [
                new Event<Op, Outcome>(0, 0, remove.LinearizationSteps[0], remove.UnderRaces(Outcome.DeviceRemoved(0, 0)), 0, 100),
                new Event<Op, Outcome>(0, 1, remove.LinearizationSteps[1], Outcome.Done, 0, 100),
            ],
            [new Event<Op, Outcome>(1, 0, alloc, Outcome.Err(Memory.DmaSgError.DeviceGone), 200, 300)],
        ]);
        Assert.True(refused.Linearizable);
        Assert.All(refused.Finals, f => Assert.Contains("dev coherent: refs 0 mappings 0 violations 0 removed True", f.View()));
    }

    [Fact]
    public void The_search_gives_up_on_a_budget_and_says_so()
    {
        // Twelve overlapping writes of distinct values: many orders, all fine; a tiny budget cannot finish.
        var calls = Enumerable.Range(0, 12).Select(i => ("w", i + 1, "ok", 0L, 100L, i % 3)).ToArray();
        IReadOnlyList<IReadOnlyList<Event<(string, int), string>>> branches = calls
            .GroupBy(c => c.Item6)
            .Select(g => (IReadOnlyList<Event<(string, int), string>>)g.Select((c, i) => new Event<(string, int), string>(c.Item6, i, (c.Item1, c.Item2), c.Item3, c.Item4, c.Item5)).ToArray())
            .ToArray();
        Verdict<int> v = Linearizability.Check(0, branches, Register, _ => [], s => s.ToString(System.Globalization.CultureInfo.InvariantCulture), s => s, e => "", budget: 5);
        Assert.True(v.Exhausted);
        Assert.False(v.Linearizable);
        Assert.True(Linearizability.Check(0, branches, Register, _ => [], s => s.ToString(System.Globalization.CultureInfo.InvariantCulture), s => s, e => "").Linearizable);
    }
}
