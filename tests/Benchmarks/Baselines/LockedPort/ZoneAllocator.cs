using DmaSg.Memory.Arena;

namespace DmaSg.Benchmarks.Baselines.LockedPort;

/// <summary>
/// The kernel's page allocator is shared by every thread and guards its free lists with zone->lock.
/// The port puts the same lock around the single-threaded <see cref="PageArena"/>. Zeroing happens
/// inside the arena's handout, so it runs under the lock here, as it runs on the allocator actor's
/// thread in the actor design: both serialize it.
/// </summary>
public sealed class ZoneAllocator : IDisposable
{
    private readonly Lock _zoneLock = new();

    public ZoneAllocator(PageArenaOptions options) => Arena = new PageArena(options);

    public PageArena Arena { get; }

    public long FreePageCount
    {
        get
        {
            lock (_zoneLock)
            {
                return Arena.FreePageCount;
            }
        }
    }

    /// <summary>vb2_dma_sg_alloc_compacted under the zone lock.</summary>
    public int[] AllocCompacted(int pageCount)
    {
        lock (_zoneLock)
        {
            return CompactedAllocation.Allocate(Arena, pageCount);
        }
    }

    /// <summary>__free_page for each page, under the zone lock.</summary>
    public void Free(int[] pages)
    {
        lock (_zoneLock)
        {
            Arena.FreePageList(pages);
        }
    }

    public void Dispose() => Arena.Dispose();
}
