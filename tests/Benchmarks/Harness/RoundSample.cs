using System.Diagnostics;

namespace DmaSg.Benchmarks.Harness;

/// <summary>What one round of one design did: operations completed, wall time, and per-operation latencies if recorded.</summary>
public sealed record RoundSample(long Ops, long ElapsedTicks, long[]? LatencyTicks = null)
{
    public double Seconds => (double)ElapsedTicks / Stopwatch.Frequency;

    public double OpsPerSecond => Ops / Math.Max(Seconds, 1e-9);

    public double MicrosPerOp => Seconds * 1e6 / Math.Max(Ops, 1);

    /// <summary>Times <paramref name="body"/> and reports <paramref name="ops"/> operations.</summary>
    public static async ValueTask<RoundSample> TimeAsync(long ops, Func<ValueTask> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        long start = Stopwatch.GetTimestamp();
        await body().ConfigureAwait(false);
        return new RoundSample(ops, Stopwatch.GetTimestamp() - start);
    }
}

/// <summary>One contestant of an alternating-round comparison.</summary>
public interface IRoundSubject
{
    string Name { get; }

    /// <summary>Runs about <paramref name="ops"/> operations and reports what it did.</summary>
    ValueTask<RoundSample> RunRoundAsync(int ops);
}

/// <summary>A subject from a name and a delegate.</summary>
public sealed class RoundSubject(string name, Func<int, ValueTask<RoundSample>> run) : IRoundSubject
{
    public string Name { get; } = name;

    public ValueTask<RoundSample> RunRoundAsync(int ops) => run(ops);
}
