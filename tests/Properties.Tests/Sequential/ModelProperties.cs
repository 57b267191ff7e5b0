using DmaSg.Properties.Tests.Support;
using Xunit.Abstractions;

namespace DmaSg.Properties.Tests.Sequential;

/// <summary>Section 1: model-based sequential properties over the real actors.</summary>
public class ModelProperties(ITestOutputHelper output)
{
    [Fact]
    public void Every_call_answers_as_the_model_predicts_and_the_state_follows_it() =>
        Suite.Model(PropRunner.Budget(Suite.BudgetOf(nameof(Suite.Model))), output);
}
