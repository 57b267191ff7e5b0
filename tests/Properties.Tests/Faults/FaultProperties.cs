using DmaSg.Properties.Tests.Support;
using Xunit.Abstractions;

namespace DmaSg.Properties.Tests.Faults;

/// <summary>
/// Section 3: fault injection. Page-block allocation failures, map failures, actors stopped or killed from outside,
/// and holder deaths, each at every point of a sequence. Survivors get typed replies; nothing leaks.
/// </summary>
public class FaultProperties(ITestOutputHelper output)
{
    [Fact]
    public void Faults_anywhere_in_a_sequence_leave_typed_replies_and_no_leaks() =>
        Suite.FaultyModel(PropRunner.Budget(Suite.BudgetOf(nameof(Suite.FaultyModel))), output);

    [Fact]
    public void Every_page_block_allocation_of_an_allocate_can_fail_and_nothing_changes() =>
        Suite.AllocFaults(PropRunner.Budget(Suite.BudgetOf(nameof(Suite.AllocFaults))), output);

    [Fact]
    public void A_holder_dying_at_any_state_drops_exactly_its_refs() =>
        Suite.HolderDeath(PropRunner.Budget(Suite.BudgetOf(nameof(Suite.HolderDeath))), output);

    [Fact]
    public void A_map_failing_at_any_point_is_a_typed_reply_and_undone() =>
        Suite.MapFaults(PropRunner.Budget(Suite.BudgetOf(nameof(Suite.MapFaults))), output);

    [Fact]
    public void An_actor_stopped_or_killed_at_any_state_leaves_typed_replies_and_no_leaks() =>
        Suite.ActorKills(PropRunner.Budget(Suite.BudgetOf(nameof(Suite.ActorKills))), output);
}
