using System.Numerics;

namespace DmaSg.Memory.Arena;

/// <summary>
/// vb2_dma_sg_alloc_compacted: fill a page list with the largest blocks that do not over-allocate,
/// falling back one order at a time, so the sg table has as few segments as the arena allows.
/// </summary>
public static class CompactedAllocation
{
    /// <summary>
    /// Allocates <paramref name="pageCount"/> zeroed order-0 pages (split from blocks), in block
    /// order. On failure every page taken so far is freed, the arena is as it was, and
    /// OutOfMemory is thrown.
    /// </summary>
    public static int[] Allocate(PageArena arena, int pageCount)
    {
        ArgumentNullException.ThrowIfNull(arena);
        if (pageCount <= 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"page count {pageCount} must be positive");
        }

        if (pageCount > arena.FreePageCount)
        {
            // Cheap early answer; the loop below would fail the same way after splitting blocks.
            throw new DmaSgException(DmaSgError.OutOfMemory, $"{pageCount} pages wanted, {arena.FreePageCount} free");
        }

        var pages = new int[pageCount];
        int last = 0;
        int remaining = pageCount;
        while (remaining > 0)
        {
            // Largest order whose block does not exceed what is left; the kernel then lets
            // alloc_pages fail above MAX_ORDER, which is the same as starting at MaxOrder.
            int order = Math.Min(BitOperations.Log2((uint)remaining), arena.MaxOrder);
            int first;
            while (!arena.TryAllocPages(order, out first))
            {
                if (order == 0)
                {
                    arena.FreePageList(pages.AsSpan(0, last));
                    throw new DmaSgException(DmaSgError.OutOfMemory,
                        $"no page left after {last} of {pageCount} pages ({arena.FreePageCount} free, largest free order {arena.LargestFreeOrder})");
                }

                order--;
            }

            arena.SplitPage(first, order);
            for (int i = 0; i < 1 << order; i++)
            {
                pages[last++] = first + i;
            }

            remaining -= 1 << order;
        }

        return pages;
    }

    /// <summary>Allocates whole pages for <paramref name="size"/> bytes (rounded up, never wrapping).</summary>
    public static int[] AllocateBytes(PageArena arena, long size) =>
        Allocate(arena, Sizes.PageCount(size, arena.PageSize));
}
