namespace DmaSg.Benchmarks.Harness;

/// <summary>One design's ratio against a reference design of the same case.</summary>
public sealed record RatioEntry(string Against, double Value);

/// <summary>
/// One line of the report: a figure of one design in one case, with its ratios against the baselines
/// and, where the issue set one, the target and whether it was met. <see cref="RoundValues"/> holds the
/// per-round figures the median came from (operations per second), to judge the noise.
/// </summary>
public sealed record BenchRow(
    string Workload,
    string Case,
    string Design,
    string Metric,
    double Value,
    string Unit,
    IReadOnlyList<RatioEntry> Ratios,
    string? Target = null,
    bool? TargetMet = null,
    IReadOnlyDictionary<string, double>? Extra = null,
    IReadOnlyList<double>? RoundValues = null)
{
    public static BenchRow Of(string workload, string @case, string design, string metric, double value, string unit, params RatioEntry[] ratios) =>
        new(workload, @case, design, metric, value, unit, ratios);
}
