using DmaSg.Memory.Arena;

namespace DmaSg.Memory.ScatterGather;

/// <summary>
/// sg_table: the CPU view (<see cref="OrigNents"/> entries) and, while mapped, the DMA view
/// (<see cref="Nents"/> segments, fewer when an IOMMU merged them). Single-threaded.
/// </summary>
public sealed class SgTable
{
    private readonly SgEntry[] _entries;
    private DmaSegment[] _dma = [];

    private SgTable(SgEntry[] entries, int firstOffset, long length, string owner)
    {
        _entries = entries;
        FirstOffset = firstOffset;
        Length = length;
        Owner = owner;
    }

    /// <summary>
    /// The kernel's default max segment for sg_alloc_table_from_pages: the largest page multiple in 32 bits.
    /// </summary>
    public static long DefaultMaxSegment(int pageSize) => uint.MaxValue & ~(long)(pageSize - 1);

    /// <summary>Who this table belongs to, for DMA-API reports ("buffer#7", "attachment#3 of dmabuf#2").</summary>
    public string Owner { get; set; }

    /// <summary>CPU entries, in order.</summary>
    public ReadOnlySpan<SgEntry> Entries => _entries;

    /// <summary>Number of CPU entries (orig_nents).</summary>
    public int OrigNents => _entries.Length;

    /// <summary>Number of DMA segments while mapped (nents); 0 when not mapped.</summary>
    public int Nents => _dma.Length;

    /// <summary>The DMA segments while mapped.</summary>
    public ReadOnlySpan<DmaSegment> Dma => _dma;

    public bool IsMapped => _dma.Length > 0;

    /// <summary>Offset of the first byte in the first page (USERPTR that is not page aligned).</summary>
    public int FirstOffset { get; }

    /// <summary>Total bytes described.</summary>
    public long Length { get; }

    /// <summary>Builds the table over arena pages (the MMAP memory model).</summary>
    public static SgTable FromArenaPages(PageArena arena, ReadOnlySpan<int> pages, int offset, long size, long maxSegment, string owner = "")
    {
        ArgumentNullException.ThrowIfNull(arena);
        for (int i = 0; i < pages.Length; i++)
        {
            // A table over a page outside the arena, or a free one, would let a device or the CPU
            // reach memory nobody owns, or that the next allocation hands to someone else.
            if ((uint)pages[i] >= (uint)arena.TotalPages || !arena.IsAllocated(pages[i]))
            {
                throw new DmaSgException(DmaSgError.InvalidArgument, $"page {pages[i]} at index {i} is not an allocated page of the arena");
            }
        }

        int pageSize = arena.PageSize;
        CheckGeometry(pages.Length, pageSize, offset, size, maxSegment);

        // The same entries as Build over the pages' offsets, found run by run instead of through a
        // per-page address array and callback (a 3 MiB buffer has 768 pages and a handful of runs).
        long maxSeg = maxSegment & ~(long)(pageSize - 1);
        int shift = arena.PageShift;
        nint basePtr = arena.BaseAddress;
        var entries = new List<SgEntry>(4);
        long remaining = size;
        int firstOffset = offset;
        int cur = 0;
        while (cur < pages.Length && remaining > 0)
        {
            long segBytes = pageSize;
            int j = cur + 1;
            while (j < pages.Length && segBytes < maxSeg && pages[j] == pages[j - 1] + 1)
            {
                segBytes += pageSize;
                j++;
            }

            long chunk = Math.Min(segBytes - offset, remaining);
            long phys = ((long)pages[cur] << shift) + offset;
            entries.Add(new SgEntry(phys, basePtr + (nint)phys, chunk));
            remaining -= chunk;
            offset = 0;
            cur = j;
        }

        return new SgTable(entries.ToArray(), firstOffset, size, owner);
    }

    /// <summary>
    /// Builds the table over <paramref name="pageCount"/> consecutive user pages starting at the page-aligned
    /// <paramref name="pageAlignedStart"/> (the USERPTR memory model).
    /// </summary>
    public static SgTable FromUserPages(nint pageAlignedStart, int pageCount, int pageSize, int offset, long size, long maxSegment, string owner = "")
    {
        var phys = new long[pageCount];
        for (int i = 0; i < pageCount; i++)
        {
            phys[i] = pageAlignedStart + ((long)i * pageSize);
        }

        return Build(phys, p => (nint)p, pageSize, offset, size, maxSegment, owner);
    }

    /// <summary>
    /// sg_alloc_table_from_pages: consecutive pages merge into one entry until the entry would pass
    /// <paramref name="maxSegment"/>; the first entry starts at <paramref name="offset"/>; entries
    /// cover exactly <paramref name="size"/> bytes.
    /// </summary>
    public static SgTable Build(ReadOnlySpan<long> pagePhys, Func<long, nint> cpuOf, int pageSize, int offset, long size, long maxSegment, string owner = "")
    {
        ArgumentNullException.ThrowIfNull(cpuOf);
        CheckGeometry(pagePhys.Length, pageSize, offset, size, maxSegment);
        long maxSeg = maxSegment & ~(long)(pageSize - 1);

        var entries = new List<SgEntry>();
        long remaining = size;
        int firstOffset = offset;
        int cur = 0;
        while (cur < pagePhys.Length && remaining > 0)
        {
            long segBytes = pageSize;
            int j = cur + 1;
            while (j < pagePhys.Length && segBytes < maxSeg && pagePhys[j] == pagePhys[j - 1] + pageSize)
            {
                segBytes += pageSize;
                j++;
            }

            long chunk = Math.Min(segBytes - offset, remaining);
            long phys = pagePhys[cur] + offset;
            entries.Add(new SgEntry(phys, cpuOf(phys), chunk));
            remaining -= chunk;
            offset = 0;
            cur = j;
        }

        return new SgTable(entries.ToArray(), firstOffset, size, owner);
    }

    private static void CheckGeometry(int pageCount, int pageSize, int offset, long size, long maxSegment)
    {
        long maxSeg = maxSegment & ~(long)(pageSize - 1);
        if (maxSeg <= 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"max segment {maxSegment} is below one page");
        }

        if (offset < 0 || offset >= pageSize)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"first-page offset {offset} is outside 0..{pageSize - 1}");
        }

        // Compared as size > room - offset: offset + size would wrap for a size near long.MaxValue.
        if (size <= 0 || pageCount == 0 || size > ((long)pageCount * pageSize) - offset)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{size} bytes at offset {offset} do not fit {pageCount} pages");
        }
    }

    /// <summary>A copy of the CPU entries, unmapped (each dmabuf attachment maps its own copy).</summary>
    public SgTable Clone(string? owner = null) => new((SgEntry[])_entries.Clone(), FirstOffset, Length, owner ?? Owner);

    /// <summary>Called by a device's map_sg: records the DMA segments.</summary>
    public void SetDmaMapping(DmaSegment[] segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        if (segments.Length == 0 || segments.Length > _entries.Length)
        {
            throw new ArgumentException($"a mapping has 1..{_entries.Length} segments, not {segments.Length}", nameof(segments));
        }

        _dma = segments;
    }

    /// <summary>Called by a device's unmap_sg.</summary>
    public void ClearDmaMapping() => _dma = [];

    public override string ToString() => $"sg_table({Owner}: {OrigNents} entries, {Nents} mapped, {Length} bytes)";
}
