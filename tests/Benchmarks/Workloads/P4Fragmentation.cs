using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.Harness;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Benchmarks.Workloads;

/// <summary>P4: sg segments per 3 MiB buffer on a half-free fragmented arena, compacted vs page-by-page vs the optimum.</summary>
public static class P4Fragmentation
{
    public const string Id = "P4";

    /// <summary>The kernel's dma_get_max_seg_size() when a driver sets no dma_parms.</summary>
    public const long KernelDefaultMaxSegment = 64 * 1024;

    /// <summary>
    /// The cases; the quick mode uses a 64 MiB arena instead of 256 MiB, because handing out pages that were
    /// dirtied by the fill costs a memset and, on first touch, a page fault each.
    /// </summary>
    public static FragmentationCase[] Cases(bool quick)
    {
        long large = SgTable.DefaultMaxSegment(Environment.SystemPageSize);
        long arena = quick ? 64L << 20 : 256L << 20;
        return
        [
            new(FillPattern.Mixed, KernelDefaultMaxSegment, "mixed fill, seg<=64K", arena),
            new(FillPattern.Mixed, large, "mixed fill, seg<=4G", arena),
            new(FillPattern.SinglePages, KernelDefaultMaxSegment, "page fill, seg<=64K", arena),
            new(FillPattern.SinglePages, large, "page fill, seg<=4G", arena),
        ];
    }

    public static Task<List<BenchRow>> RunAsync(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var rows = new List<BenchRow>();
        foreach (var c in Cases(context.Options.Quick))
        {
            var compacted = Fragmentation.Measure(c, PageAllocator.Compacted);
            var naive = Fragmentation.Measure(c, PageAllocator.PageByPage);
            double optimum = compacted.Optimum;
            rows.Add(Row(c, "Compacted", compacted, optimum, target: true));
            rows.Add(Row(c, "PageByPage", naive, optimum, target: false));
            rows.Add(new BenchRow(Id, c.Label, "Optimum", "segments/buffer", optimum, "segs", [new RatioEntry("optimum", 1)]));
        }

        return Task.FromResult(rows);
    }

    private static BenchRow Row(FragmentationCase c, string design, FragmentationResult r, double optimum, bool target)
    {
        double ratio = r.MeanSegments / optimum;
        return new BenchRow(Id, c.Label, design, "segments/buffer", r.MeanSegments, "segs", [new RatioEntry("optimum", ratio)],
            target ? "<=1.1x optimum" : null, target ? ratio <= 1.1 : null,
            new Dictionary<string, double>
            {
                ["buffers"] = r.Buffers,
                ["minSegments"] = r.MinSegments,
                ["maxSegments"] = r.MaxSegments,
                ["freeFractionBefore"] = r.FreeFractionBefore,
                ["bufferBytes"] = c.BufferSize,
                ["maxSegment"] = c.MaxSegment,
                ["arenaBytes"] = c.ArenaSize,
            });
    }
}
