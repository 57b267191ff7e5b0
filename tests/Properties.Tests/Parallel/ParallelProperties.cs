using DmaSg.Properties.Tests.Support;
using Xunit.Abstractions;

namespace DmaSg.Properties.Tests.Parallel;

/// <summary>Section 2: races. Branches of calls run at the same time from different threads; some interleaving must explain them.</summary>
public class ParallelProperties(ITestOutputHelper output)
{
    /// <summary>350 generated cases, each run three times: about a thousand concurrent runs.</summary>
    [Fact]
    public void Concurrent_calls_are_linearizable_and_leave_a_state_the_model_allows() =>
        Suite.Races(PropRunner.Budget(Suite.BudgetOf(nameof(Suite.Races))), output);
}
