using DmaSg.Properties.Tests.Support;
using FsCheck.Experimental;
using Xunit.Abstractions;

namespace DmaSg.Properties.Tests.Sequential;

/// <summary>Section 1: model-based sequential properties over the real actors.</summary>
public class ModelProperties(ITestOutputHelper output)
{
    [Fact]
    public void Every_call_answers_as_the_model_predicts_and_the_state_follows_it()
    {
        PropRunner.Check(
            nameof(Every_call_answers_as_the_model_predicts_and_the_state_follows_it),
            new DmaSgMachine().ToProperty(),
            maxTest: PropRunner.Budget(6000),
            endSize: 40,
            output,
            DmaSgMachine.Render,
            DmaSgMachine.Replay);
    }
}
