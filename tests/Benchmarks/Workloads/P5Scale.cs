using System.Diagnostics;
using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.Harness;
using DmaSg.Benchmarks.MemoryLayer;

namespace DmaSg.Benchmarks.Workloads;

/// <summary>
/// P5: 100k live buffers. Bookkeeping is the managed heap's growth per live buffer (after a full GC; it
/// includes actors for actor designs); speed is create+destroy pairs per second. Designs alternate
/// round by round; the Memory layer is the reference.
/// </summary>
public static class P5Scale
{
    public const string Id = "P5";

    public const double TargetBytesPerBuffer = 2048;

    public const double TargetPairsPerSecond = 50_000;

    public static async Task<List<BenchRow>> RunAsync(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var c = new ScaleCase();
        // 100k actors take seconds to spawn and stop: one round each in the quick mode, three otherwise.
        int rounds = context.Options.Rounds ?? (context.Options.Quick ? 1 : 3);
        var designs = new List<IScaleDesign> { new MemoryScale(c) };
        var rows = new List<BenchRow>();
        try
        {
            foreach (var factory in context.Catalog.Scale)
            {
                designs.Add(await factory(context, c).ConfigureAwait(false));
            }

            var samples = designs.Select(_ => new List<ScaleSample>()).ToArray();
            for (int i = 0; i < designs.Count; i++)
            {
                // Warm up: every arena page handed out and cleared once (steady state), then a tenth of the
                // buffers at a time until the tiered JIT has settled.
                await designs[i].PrepareAsync().ConfigureAwait(false);
                var warm = Stopwatch.StartNew();
                while (warm.Elapsed < context.Plan.JitWarmup)
                {
                    await MeasureAsync(designs[i], c.LiveBuffers / 10).ConfigureAwait(false);
                }
            }

            for (int r = 0; r < rounds; r++)
            {
                for (int k = 0; k < designs.Count; k++)
                {
                    int i = (k + r) % designs.Count;
                    samples[i].Add(await MeasureAsync(designs[i], c.LiveBuffers).ConfigureAwait(false));
                }
            }

            double refBytes = Stats.Median(samples[0].Select(s => s.BytesPerBuffer));
            double refPairs = Stats.Median(samples[0].Select(s => s.PairsPerSecond));
            for (int i = 0; i < designs.Count; i++)
            {
                double bytes = Stats.Median(samples[i].Select(s => s.BytesPerBuffer));
                double pairs = Stats.Median(samples[i].Select(s => s.PairsPerSecond));
                var extra = new Dictionary<string, double>
                {
                    ["liveBuffers"] = c.LiveBuffers,
                    ["createPerSecond"] = Stats.Median(samples[i].Select(s => s.CreatePerSecond)),
                    ["destroyPerSecond"] = Stats.Median(samples[i].Select(s => s.DestroyPerSecond)),
                };
                string label = $"{c.LiveBuffers / 1000}k x {c.BufferSize / 1024} KiB";
                rows.Add(new BenchRow(Id, label, designs[i].Name, "bookkeeping", bytes, "B/buffer",
                    [new RatioEntry("Memory", bytes / refBytes)], "<=2 KiB", bytes <= TargetBytesPerBuffer, extra,
                    samples[i].Select(s => s.BytesPerBuffer).ToArray()));
                rows.Add(new BenchRow(Id, label, designs[i].Name, "create+destroy", pairs, "ops/s",
                    [new RatioEntry("Memory", pairs / refPairs)], ">=50k/s", pairs >= TargetPairsPerSecond, extra,
                    samples[i].Select(s => s.PairsPerSecond).ToArray()));
            }
        }
        finally
        {
            foreach (var d in designs)
            {
                await d.DisposeAsync().ConfigureAwait(false);
            }
        }

        return rows;
    }

    private static async Task<ScaleSample> MeasureAsync(IScaleDesign design, int count)
    {
        long before = GC.GetTotalMemory(forceFullCollection: true);
        long t0 = Stopwatch.GetTimestamp();
        await design.CreateAsync(count).ConfigureAwait(false);
        long created = Stopwatch.GetTimestamp() - t0;
        long live = GC.GetTotalMemory(forceFullCollection: true);
        long t1 = Stopwatch.GetTimestamp();
        await design.DestroyAsync().ConfigureAwait(false);
        long destroyed = Stopwatch.GetTimestamp() - t1;
        double f = Stopwatch.Frequency;
        return new ScaleSample((double)(live - before) / count, count / (created / f), count / (destroyed / f), count / ((created + destroyed) / f));
    }

    private sealed record ScaleSample(double BytesPerBuffer, double CreatePerSecond, double DestroyPerSecond, double PairsPerSecond);
}
