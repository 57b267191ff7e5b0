using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.Workloads;
using DmaSg.Memory.Arena;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Benchmarks.Bdn;

/// <summary>
/// P4 under BenchmarkDotNet: the time to allocate (and free) one 3 MiB buffer with its sg table on a
/// half-free fragmented arena; the Segments column is the deterministic segment count of P4.
/// </summary>
[Config(typeof(Config))]
public class P4FragmentationBenchmarks
{
    private PageArena _arena = null!;
    private int _pageCount;

    [Params(FillPattern.Mixed, FillPattern.SinglePages)]
    public FillPattern Fill { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _arena = new PageArena(new PageArenaOptions { ArenaSize = 256L << 20, Name = "bench-bdn-p4" });
        Fragmentation.Fragment(_arena, Fill, new Random(8));
        _pageCount = Sizes.PageCount(PipelineCase.Nv12_1080p, _arena.PageSize);
    }

    [GlobalCleanup]
    public void Cleanup() => _arena.Dispose();

    [Benchmark(Baseline = true)]
    public int Compacted() => AllocFree(CompactedAllocation.Allocate(_arena, _pageCount));

    [Benchmark]
    public int PageByPage() => AllocFree(Fragmentation.PageByPage(_arena, _pageCount));

    private int AllocFree(int[] pages)
    {
        int n = SgTable.FromArenaPages(_arena, pages, 0, (long)pages.Length * _arena.PageSize, P4Fragmentation.KernelDefaultMaxSegment).OrigNents;
        _arena.FreePageList(pages);
        return n;
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new SegmentsColumn());
    }

    /// <summary>Mean sg segments per buffer (max segment 64 KiB) of the P4 measurement for this fill and allocator.</summary>
    private sealed class SegmentsColumn : IColumn
    {
        public string Id => nameof(SegmentsColumn);

        public string ColumnName => "Segments";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => "Mean sg segments per 3 MiB buffer after fragmentation (max segment 64 KiB; optimum 48)";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
        {
            var fill = (FillPattern)benchmarkCase.Parameters[nameof(Fill)];
            var allocator = benchmarkCase.Descriptor.WorkloadMethod.Name == nameof(PageByPage) ? PageAllocator.PageByPage : PageAllocator.Compacted;
            var r = Fragmentation.Measure(new FragmentationCase(fill, P4Fragmentation.KernelDefaultMaxSegment, ""), allocator);
            return r.MeanSegments.ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
        }

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public bool IsAvailable(Summary summary) => true;
    }
}
