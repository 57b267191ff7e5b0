using DmaSg.Benchmarks.Baselines.LockedPort;
using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.Harness;

namespace DmaSg.Benchmarks.Workloads;

/// <summary>P2: the camera-to-encoder frame pipeline with 1, 4 and 16 streams, against LockedPort.</summary>
public static class P2FramePipeline
{
    public const string Id = "P2";

    public static readonly int[] StreamCounts = [1, 4, 16];

    public static async Task<List<BenchRow>> RunAsync(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var rows = new List<BenchRow>();
        foreach (int streams in StreamCounts)
        {
            var c = new PipelineCase(streams);
            var designs = new List<IFramePipelineDesign> { new LockedPortPipeline(c) };
            try
            {
                foreach (var factory in context.Catalog.Pipeline)
                {
                    designs.Add(await factory(context, c).ConfigureAwait(false));
                }

                var subjects = designs.Select(d => (IRoundSubject)new RoundSubject(d.Name,
                    ops => d.RunAsync(Math.Max(1, ops / streams)))).ToList();
                var results = await AlternatingRounds.RunAsync(subjects, context.Plan.Scaled(2), firstCase: streams == StreamCounts[0]).ConfigureAwait(false);
                SubjectResult baseline = results[designs[0].Name];
                foreach (var d in designs)
                {
                    SubjectResult r = results[d.Name];
                    double[] lat = r.SortedLatencyMicros();
                    double ratio = r.ThroughputRatio(baseline);
                    bool contender = d != designs[0];
                    rows.Add(new BenchRow(Id, $"{streams} stream{(streams == 1 ? "" : "s")}", d.Name, "frames", r.MedianOpsPerSecond, "frames/s",
                        [new RatioEntry("LockedPort", ratio)],
                        contender ? ">=0.95x LockedPort" : null, contender ? ratio >= 0.95 : null,
                        new Dictionary<string, double>
                        {
                            ["p50Micros"] = Stats.Percentile(lat, 50),
                            ["p99Micros"] = Stats.Percentile(lat, 99),
                            ["p999Micros"] = Stats.Percentile(lat, 99.9),
                            ["maxMicros"] = lat.Length == 0 ? double.NaN : lat[^1],
                            ["frameBytes"] = c.FrameSize,
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
