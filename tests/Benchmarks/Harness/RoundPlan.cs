namespace DmaSg.Benchmarks.Harness;

/// <summary>
/// How long to warm up and how many rounds of what length each subject gets. <see cref="JitWarmup"/> replaces
/// <see cref="Warmup"/> for the first case of a workload: until the tiered JIT has recompiled the hot
/// methods (tier 0 runs the first rounds several times slower), rounds measure the JIT, not the design.
/// </summary>
public sealed record RoundPlan(TimeSpan Warmup, TimeSpan RoundTime, int Rounds, TimeSpan JitWarmup, int MaxOps = 50_000_000)
{
    /// <summary>The quick mode: all of P1 to P5 in well under a minute on two cores.</summary>
    public static RoundPlan Quick { get; } = new(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(40), Rounds: 5, TimeSpan.FromMilliseconds(250));

    public static RoundPlan Full { get; } = new(TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(400), Rounds: 7, TimeSpan.FromSeconds(1));

    /// <summary>The same plan with round time scaled (heavier workloads get longer rounds).</summary>
    public RoundPlan Scaled(double factor) => this with
    {
        Warmup = TimeSpan.FromTicks((long)(Warmup.Ticks * factor)),
        RoundTime = TimeSpan.FromTicks((long)(RoundTime.Ticks * factor)),
    };
}
