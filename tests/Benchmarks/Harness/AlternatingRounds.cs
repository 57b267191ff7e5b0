using System.Diagnostics;

namespace DmaSg.Benchmarks.Harness;

/// <summary>
/// Runs designs against each other in one process: each is warmed up and calibrated to a round length,
/// then the rounds alternate (A B C, B C A, C A B, ...) so drift (thermal, other tenants of the
/// machine, GC state) hits every design alike. Ratios are taken per round and the median reported.
/// </summary>
public static class AlternatingRounds
{
    /// <param name="subjects">The designs; names must be distinct.</param>
    /// <param name="plan">Warmup, round length and count.</param>
    /// <param name="firstCase">True for a workload's first case: warm up for <see cref="RoundPlan.JitWarmup"/>.</param>
    public static async Task<IReadOnlyDictionary<string, SubjectResult>> RunAsync(IReadOnlyList<IRoundSubject> subjects, RoundPlan plan, bool firstCase = false)
    {
        ArgumentNullException.ThrowIfNull(subjects);
        ArgumentNullException.ThrowIfNull(plan);
        var opsPerRound = new int[subjects.Count];
        for (int i = 0; i < subjects.Count; i++)
        {
            opsPerRound[i] = await CalibrateAsync(subjects[i], plan, firstCase ? plan.JitWarmup : plan.Warmup).ConfigureAwait(false);
        }

        var samples = subjects.Select(_ => new List<RoundSample>()).ToArray();
        for (int r = 0; r < plan.Rounds; r++)
        {
            for (int k = 0; k < subjects.Count; k++)
            {
                int i = (k + r) % subjects.Count;
                samples[i].Add(await subjects[i].RunRoundAsync(opsPerRound[i]).ConfigureAwait(false));
            }
        }

        var results = new Dictionary<string, SubjectResult>();
        for (int i = 0; i < subjects.Count; i++)
        {
            results[subjects[i].Name] = new SubjectResult(subjects[i].Name, samples[i]);
        }

        return results;
    }

    /// <summary>
    /// Warms a subject up and returns the operation count for one round. The count doubles until one run
    /// lasts a quarter of the warmup, and it goes on until the warmup time is spent; the per-operation time
    /// comes from the last run, never the first (whose first call pays for JIT and lazy set-up).
    /// </summary>
    private static async Task<int> CalibrateAsync(IRoundSubject subject, RoundPlan plan, TimeSpan warmup)
    {
        int ops = 1;
        long warmupTicks = (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        long spent = 0;
        int runs = 0;
        RoundSample last;
        while (true)
        {
            last = await subject.RunRoundAsync(ops).ConfigureAwait(false);
            spent += last.ElapsedTicks;
            runs++;
            bool longEnough = last.ElapsedTicks * 4 >= warmupTicks || ops >= plan.MaxOps;
            if (runs >= 2 && spent >= warmupTicks && longEnough)
            {
                break;
            }

            if (!longEnough)
            {
                ops = (int)Math.Min((long)ops * 2, plan.MaxOps);
            }
        }

        double perOp = last.Seconds / Math.Max(last.Ops, 1);
        return (int)Math.Clamp(plan.RoundTime.TotalSeconds / Math.Max(perOp, 1e-9), 1, plan.MaxOps);
    }
}

/// <summary>The rounds of one subject and their statistics.</summary>
public sealed class SubjectResult(string name, IReadOnlyList<RoundSample> rounds)
{
    public string Name { get; } = name;

    public IReadOnlyList<RoundSample> Rounds { get; } = rounds;

    public double MedianOpsPerSecond => Stats.Median(Rounds.Select(r => r.OpsPerSecond));

    public double MedianMicrosPerOp => Stats.Median(Rounds.Select(r => r.MicrosPerOp));

    /// <summary>Median over rounds of this subject's throughput divided by <paramref name="baseline"/>'s in the same round.</summary>
    public double ThroughputRatio(SubjectResult baseline)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        int n = Math.Min(Rounds.Count, baseline.Rounds.Count);
        return Stats.Median(Enumerable.Range(0, n).Select(i => Rounds[i].OpsPerSecond / baseline.Rounds[i].OpsPerSecond));
    }

    /// <summary>All latencies recorded over the rounds, in microseconds, sorted.</summary>
    public double[] SortedLatencyMicros()
    {
        double scale = 1e6 / Stopwatch.Frequency;
        var all = Rounds.Where(r => r.LatencyTicks is not null).SelectMany(r => r.LatencyTicks!).Select(t => t * scale).ToArray();
        Array.Sort(all);
        return all;
    }
}

public static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        var v = values.ToArray();
        if (v.Length == 0)
        {
            return double.NaN;
        }

        Array.Sort(v);
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[(v.Length / 2) - 1] + v[v.Length / 2]) / 2;
    }

    /// <summary>The nearest-rank percentile of sorted values; NaN when empty.</summary>
    public static double Percentile(double[] sorted, double p)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        int rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
