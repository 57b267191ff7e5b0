using DmaSg.Benchmarks.Baselines.LockedPort;
using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.Harness;

namespace DmaSg.Benchmarks.Workloads;

/// <summary>P3: map/unmap of a cached direction by 1, 8 and 64 clients, against LockedPort.</summary>
public static class P3CachedMap
{
    public const string Id = "P3";

    public static readonly int[] ClientCounts = [1, 8, 64];

    public const double TargetOpsPerSecondAt64 = 500_000;

    public static async Task<List<BenchRow>> RunAsync(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var rows = new List<BenchRow>();
        foreach (int clients in ClientCounts)
        {
            var c = new CachedMapCase(clients);
            var designs = new List<ICachedMapDesign> { new LockedPortCachedMap(c) };
            try
            {
                foreach (var factory in context.Catalog.CachedMap)
                {
                    designs.Add(await factory(context, c).ConfigureAwait(false));
                }

                var subjects = designs.Select(d => (IRoundSubject)new RoundSubject(d.Name,
                    ops => d.RunAsync(Math.Max(1, ops / clients)))).ToList();
                var results = await AlternatingRounds.RunAsync(subjects, context.Plan, firstCase: clients == ClientCounts[0]).ConfigureAwait(false);
                SubjectResult baseline = results[designs[0].Name];
                foreach (var d in designs)
                {
                    SubjectResult r = results[d.Name];
                    double[] lat = r.SortedLatencyMicros();
                    bool targeted = d != designs[0] && clients == 64;
                    rows.Add(new BenchRow(Id, $"{clients} client{(clients == 1 ? "" : "s")}", d.Name, "map+unmap", r.MedianOpsPerSecond, "ops/s",
                        [new RatioEntry("LockedPort", r.ThroughputRatio(baseline))],
                        targeted ? ">=500k ops/s" : null, targeted ? r.MedianOpsPerSecond >= TargetOpsPerSecondAt64 : null,
                        new Dictionary<string, double>
                        {
                            ["p50Micros"] = Stats.Percentile(lat, 50),
                            ["p99Micros"] = Stats.Percentile(lat, 99),
                            ["p999Micros"] = Stats.Percentile(lat, 99.9),
                            ["maxMicros"] = lat.Length == 0 ? double.NaN : lat[^1],
                        },
                        r.Rounds.Select(x => x.OpsPerSecond).ToArray()));
                }
            }
            finally
            {
                foreach (var d in designs)
                {
                    await d.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        return rows;
    }
}
