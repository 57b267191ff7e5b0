using DmaSg.Memory;
using DmaSg.Memory.Arena;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Benchmarks.Workloads;

/// <summary>How the arena is filled before half of it is freed at random.</summary>
public enum FillPattern
{
    /// <summary>Buffers of 1 to 1024 pages, log-uniform (small metadata up to 4 MiB frames).</summary>
    Mixed,

    /// <summary>Single pages only: the worst case, free memory ends up as scattered order-0 holes.</summary>
    SinglePages,
}

/// <summary>How a buffer's pages are taken from the arena.</summary>
public enum PageAllocator
{
    /// <summary>The seed's compacted allocation: largest order that does not over-allocate, then fall back.</summary>
    Compacted,

    /// <summary>One order-0 page at a time.</summary>
    PageByPage,
}

/// <summary>P4 case.</summary>
public sealed record FragmentationCase(FillPattern Fill, long MaxSegment, string Label, long ArenaSize = 256L << 20, long BufferSize = 3_110_400, int Seed = 8);

/// <summary>Segments per buffer after fragmenting; the optimum is ceil(size / max segment).</summary>
public sealed record FragmentationResult(int Buffers, double MeanSegments, int MinSegments, int MaxSegments, double Optimum, double FreeFractionBefore);

/// <summary>
/// P4: fill a fresh arena, free buffers at random until half of it is free, then allocate buffers of
/// the case's size until the arena cannot hold another one, and count the sg entries of each (consecutive
/// pages merge up to the max segment). Deterministic: the same case gives the same arena, so both page
/// allocators start from identical free lists.
/// </summary>
public static class Fragmentation
{
    public static FragmentationResult Measure(FragmentationCase c, PageAllocator allocator)
    {
        ArgumentNullException.ThrowIfNull(c);
        using var arena = new PageArena(new PageArenaOptions { ArenaSize = c.ArenaSize, Name = "bench-p4" });
        Fragment(arena, c.Fill, new Random(c.Seed));
        double freeBefore = (double)arena.FreePageCount / arena.TotalPages;
        int pageCount = Sizes.PageCount(c.BufferSize, arena.PageSize);
        long alignedSize = (long)pageCount * arena.PageSize;
        var segments = new List<int>();
        while (arena.FreePageCount >= pageCount)
        {
            int[] pages = allocator == PageAllocator.Compacted ? CompactedAllocation.Allocate(arena, pageCount) : PageByPage(arena, pageCount);
            segments.Add(SgTable.FromArenaPages(arena, pages, 0, alignedSize, c.MaxSegment).OrigNents);
        }

        double optimum = Math.Ceiling((double)alignedSize / (c.MaxSegment & ~(long)(arena.PageSize - 1)));
        return new FragmentationResult(segments.Count, segments.Count == 0 ? double.NaN : segments.Average(),
            segments.DefaultIfEmpty().Min(), segments.DefaultIfEmpty().Max(), optimum, freeBefore);
    }

    /// <summary>Fills the arena per <paramref name="fill"/>, then frees random buffers until at least half of it is free.</summary>
    public static void Fragment(PageArena arena, FillPattern fill, Random random)
    {
        ArgumentNullException.ThrowIfNull(arena);
        ArgumentNullException.ThrowIfNull(random);
        var live = new List<int[]>();
        if (fill == FillPattern.SinglePages)
        {
            while (arena.TryAllocPages(0, out int page))
            {
                live.Add([page]);
            }
        }
        else
        {
            int maxPages = 1 << arena.MaxOrder;
            while (arena.FreePageCount > 0)
            {
                // Log-uniform size in 1..maxPages, clipped to what is left.
                int want = (int)Math.Min(Math.Round(Math.Pow(maxPages, random.NextDouble())), arena.FreePageCount);
                live.Add(CompactedAllocation.Allocate(arena, Math.Max(want, 1)));
            }
        }

        // Free in random order until half the arena is free.
        for (int i = live.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (live[i], live[j]) = (live[j], live[i]);
        }

        int k = 0;
        while (arena.FreePageCount * 2 < arena.TotalPages && k < live.Count)
        {
            arena.FreePageList(live[k++]);
        }
    }

    /// <summary>A naive allocator: order-0 pages one by one; frees what it took when the arena runs out.</summary>
    public static int[] PageByPage(PageArena arena, int pageCount)
    {
        ArgumentNullException.ThrowIfNull(arena);
        var pages = new int[pageCount];
        for (int i = 0; i < pageCount; i++)
        {
            if (!arena.TryAllocPages(0, out pages[i]))
            {
                arena.FreePageList(pages.AsSpan(0, i));
                throw new DmaSgException(DmaSgError.OutOfMemory, $"page {i} of {pageCount}");
            }
        }

        return pages;
    }
}
