using System.Globalization;
using DmaSg.Memory.Arena;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Node.Demo;

/// <summary>
/// The `demo` verb: buffers of media and ML sizes from a fresh memfd page arena, then the same sizes
/// from the arena after it has been fragmented, with the buddy free lists per order and the sg segment
/// counts at each step. Every figure printed is read from the real arena and the real sg tables.
/// </summary>
public static class ArenaDemo
{
    /// <summary>The buffers allocated twice: on the fresh arena and on the fragmented one.</summary>
    private static readonly (string Name, long Bytes)[] Buffers =
    [
        ("4K NV12 frame 3840x2160", 3840 * 2160 * 3 / 2),
        ("1080p NV12 frame 1920x1080", 1920 * 1080 * 3 / 2),
        ("720p NV12 frame 1280x720", 1280 * 720 * 3 / 2),
        ("tensor 1x3x224x224 fp32", 3 * 224 * 224 * 4),
        ("H.264 access unit", 100_000),
        ("audio period 10 ms s16 stereo", 48_000 / 100 * 2 * 2),
    ];

    /// <summary>The filler buffers that fragment the arena: taken until it is full, then every other one freed.</summary>
    private const long FillerBytes = 16 << 10;

    public static int Run(TextWriter output) => Run(output, 64L << 20, maxOrder: 10);

    public static int Run(TextWriter output, long arenaBytes, int maxOrder)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var arena = new PageArena(new PageArenaOptions { ArenaSize = arenaBytes, MaxOrder = maxOrder, Name = "dmasg-demo" });
        var observer = new AllocPagesObserver(arena);
        arena.FaultInjector = observer; // never fails: it only watches which orders compacted allocation asks for

        output.WriteLine(
            $"DmaSg arena demo: a {Size(arena.SizeInBytes)} memfd arena of {arena.TotalPages:N0} pages of {Size(arena.PageSize)}, " +
            $"buddy orders 0..{arena.MaxOrder} (largest block {Size((long)arena.PageSize << arena.MaxOrder)}).");
        output.WriteLine();

        FreeListSnapshot initial = arena.Snapshot();
        var stages = new List<(string Name, int[] Blocks)> { ("fresh", arena.FreeBlocksPerOrder()) };

        output.WriteLine("1. Buffers from the fresh arena (compacted allocation: largest block that fits, then smaller)");
        List<Allocated> fresh = AllocateAll(arena, observer);
        WriteBuffers(output, fresh, previous: null);
        stages.Add(("step 1", arena.FreeBlocksPerOrder()));

        var fillers = new List<int[]>();
        int fillerPages = Sizes.PageCount(FillerBytes, arena.PageSize);
        while (arena.FreePageCount >= fillerPages)
        {
            fillers.Add(CompactedAllocation.AllocateBytes(arena, FillerBytes));
        }

        int freed = 0;
        for (int i = 0; i < fillers.Count; i += 2)
        {
            arena.FreePageList(fillers[i]);
            fillers[i] = [];
            freed++;
        }

        output.WriteLine();
        output.WriteLine(
            $"2. Fragment: fill the rest with {fillers.Count:N0} buffers of {Size(FillerBytes)}, free every other one ({freed:N0}): " +
            $"{arena.FreePageCount:N0} pages free in {arena.FreeBlocksPerOrder().Sum():N0} blocks, largest free order {arena.LargestFreeOrder}.");
        stages.Add(("fragmented", arena.FreeBlocksPerOrder()));

        output.WriteLine();
        output.WriteLine("3. The same sizes again, from the fragmented arena");
        List<Allocated> fragmented = AllocateAll(arena, observer);
        WriteBuffers(output, fragmented, previous: fresh);
        stages.Add(("step 3", arena.FreeBlocksPerOrder()));

        foreach (Allocated a in fresh.Concat(fragmented))
        {
            arena.FreePageList(a.Pages);
        }

        foreach (int[] f in fillers)
        {
            arena.FreePageList(f);
        }

        stages.Add(("all freed", arena.FreeBlocksPerOrder()));

        output.WriteLine();
        output.WriteLine("4. Free blocks per order at each step");
        WriteFreeLists(output, arena, stages);

        arena.CheckInvariants();
        bool merged = arena.Snapshot().Equals(initial);
        output.WriteLine();
        output.WriteLine(
            $"5. Everything freed: {arena.FreePageCount:N0} of {arena.TotalPages:N0} pages free; buddies merged back to the fresh free lists: {(merged ? "yes" : "NO")}; " +
            $"buddy invariants hold; {arena.PagesZeroed:N0} reused pages were cleared by memset before they were handed out again.");
        return merged && arena.FreePageCount == arena.TotalPages ? 0 : 1;
    }

    private static List<Allocated> AllocateAll(PageArena arena, AllocPagesObserver observer)
    {
        var result = new List<Allocated>();
        foreach ((string name, long bytes) in Buffers)
        {
            observer.Reset();
            int[] pages = CompactedAllocation.AllocateBytes(arena, bytes);
            SgTable sgt = SgTable.FromArenaPages(arena, pages, 0, bytes, SgTable.DefaultMaxSegment(arena.PageSize), name);
            long largest = 0;
            foreach (SgEntry e in sgt.Entries)
            {
                largest = Math.Max(largest, e.Length);
            }

            result.Add(new Allocated(name, bytes, pages, observer.Blocks, observer.Fallbacks, sgt.OrigNents, largest));
        }

        return result;
    }

    private static void WriteBuffers(TextWriter output, List<Allocated> buffers, List<Allocated>? previous)
    {
        output.WriteLine(
            $"   {"buffer",-30} {"bytes",12} {"pages",6} {"blocks",7} {"fallbacks",9} {"sg segments",11} {"largest segment",15}" +
            (previous is null ? string.Empty : $" {"segments when fresh",19}"));
        for (int i = 0; i < buffers.Count; i++)
        {
            Allocated a = buffers[i];
            output.WriteLine(
                $"   {a.Name,-30} {a.Bytes,12:N0} {a.Pages.Length,6:N0} {a.Blocks,7:N0} {a.Fallbacks,9:N0} {a.Segments,11:N0} {Size(a.LargestSegment),15}" +
                (previous is null ? string.Empty : $" {previous[i].Segments,19:N0}"));
        }
    }

    private static void WriteFreeLists(TextWriter output, PageArena arena, List<(string Name, int[] Blocks)> stages)
    {
        output.WriteLine($"   {"order",5} {"block",9}" + string.Concat(stages.Select(s => $" {s.Name,11}")));
        for (int o = 0; o <= arena.MaxOrder; o++)
        {
            output.WriteLine($"   {o,5} {Size((long)arena.PageSize << o),9}" + string.Concat(stages.Select(s => $" {s.Blocks[o],11:N0}")));
        }

        output.WriteLine(
            $"   {"pages",5} {"free",9}" +
            string.Concat(stages.Select(s => $" {s.Blocks.Select((n, o) => (long)n << o).Sum(),11:N0}")));
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 when bytes % (1L << 30) == 0 => $"{bytes >> 30} GiB",
        >= 1L << 20 when bytes % (1L << 20) == 0 => $"{bytes >> 20} MiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.00", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 when bytes % (1L << 10) == 0 => $"{bytes >> 10} KiB",
        _ => $"{bytes} B",
    };

    private sealed record Allocated(string Name, long Bytes, int[] Pages, int Blocks, int Fallbacks, int Segments, long LargestSegment);

    /// <summary>
    /// Sits in the arena's fault-injection hook without ever failing: counts the alloc_pages calls of one
    /// compacted allocation that found a block, and those that fell back to a smaller order.
    /// </summary>
    private sealed class AllocPagesObserver(PageArena arena) : IAllocFaultInjector
    {
        public int Blocks { get; private set; }

        public int Fallbacks { get; private set; }

        public void Reset() => (Blocks, Fallbacks) = (0, 0);

        public bool ShouldFail(int order)
        {
            bool found = false;
            for (int o = order; o <= arena.MaxOrder && !found; o++)
            {
                found = arena.FreeBlocks(o) > 0;
            }

            if (found)
            {
                Blocks++;
            }
            else
            {
                Fallbacks++;
            }

            return false;
        }
    }
}
