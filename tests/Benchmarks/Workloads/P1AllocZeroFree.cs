using DmaSg.Benchmarks.Baselines.Limit;
using DmaSg.Benchmarks.Baselines.Raw;
using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.Harness;

namespace DmaSg.Benchmarks.Workloads;

/// <summary>P1: allocate + zero + free, per size, every design against Limit and Raw.</summary>
public static class P1AllocZeroFree
{
    public const string Id = "P1";

    public static readonly AllocFreeCase[] Cases =
    [
        new(4096, "4 KiB"),
        new(64 * 1024, "64 KiB"),
        new(PipelineCase.Nv12_1080p, "3 MiB NV12"),
        new(32L << 20, "32 MiB"),
    ];

    public static async Task<List<BenchRow>> RunAsync(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var rows = new List<BenchRow>();
        foreach (var c in Cases)
        {
            var designs = new List<IAllocFreeDesign> { new WarmClear(c.Size), new RawAlignedAlloc(), new RawArrayPool() };
            try
            {
                foreach (var factory in context.Catalog.AllocFree)
                {
                    designs.Add(await factory(context, c).ConfigureAwait(false));
                }

                var subjects = designs.Select(d => (IRoundSubject)new RoundSubject(d.Name,
                    ops => RoundSample.TimeAsync(ops, () => d.RunAsync(c.Size, ops)))).ToList();
                var results = await AlternatingRounds.RunAsync(subjects, context.Plan, firstCase: c == Cases[0]).ConfigureAwait(false);
                SubjectResult limit = results["Limit"];
                SubjectResult raw = results["Raw.AlignedAlloc"];
                foreach (var d in designs)
                {
                    SubjectResult r = results[d.Name];
                    var ratios = new List<RatioEntry> { new("Limit", r.ThroughputRatio(limit)) };
                    if (r != raw)
                    {
                        ratios.Add(new RatioEntry("Raw", r.ThroughputRatio(raw)));
                    }

                    bool contender = designs.IndexOf(d) >= 3;
                    bool targeted = contender && c.Size == PipelineCase.Nv12_1080p;
                    rows.Add(new BenchRow(Id, c.Label, d.Name, "alloc+zero+free", r.MedianMicrosPerOp, "us/op", ratios,
                        targeted ? ">=0.8x Limit" : null, targeted ? ratios[0].Value >= 0.8 : null,
                        new Dictionary<string, double> { ["opsPerSecond"] = r.MedianOpsPerSecond, ["bytes"] = c.Size },
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
