using DmaSg.Properties.Tests.Support;
using FsCheck;
using FsCheck.Fluent;
using Xunit.Abstractions;

namespace DmaSg.Properties.Tests.Parallel;

/// <summary>Section 2: races. Branches of calls run at the same time from different threads; some interleaving must explain them.</summary>
public class ParallelProperties(ITestOutputHelper output)
{
    [Fact]
    public void Concurrent_calls_are_linearizable_and_leave_a_state_the_model_allows()
    {
        Arbitrary<ParallelCase> cases = Arb.From(ParallelCase.Generator(), ParallelCase.Shrink);
        PropRunner.Check(
            nameof(Concurrent_calls_are_linearizable_and_leave_a_state_the_model_allows),
            Prop.ForAll(cases, c => c.Run().GetAwaiter().GetResult() is not { } failure ? Prop.ToProperty(true) : Prop.Label(false, failure)),
            maxTest: PropRunner.Budget(1000),
            endSize: 100,
            output,
            c => c.ToString() ?? string.Empty,
            async c => await ((ParallelCase)c).Run() is { } failure ? $"re-run: {failure}" : "re-run passed (timing-dependent)");
    }
}
