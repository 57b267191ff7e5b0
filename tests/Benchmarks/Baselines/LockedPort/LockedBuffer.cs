using DmaSg.Memory;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Benchmarks.Baselines.LockedPort;

/// <summary>
/// vb2_dma_sg_buf on the exporter side (the MMAP memory model), ported with the seed's concurrency:
/// an atomic refcount (refcount_t) and no lock of its own. Whoever holds a ref may call it from any thread.
/// </summary>
public sealed class LockedBuffer
{
    private readonly ZoneAllocator _zone;
    private int _refcount = 1;

    private LockedBuffer(ZoneAllocator zone, IDmaDevice device, DmaDirection dir, long size, int[] pages, SgTable sgt)
    {
        _zone = zone;
        Device = device;
        Direction = dir;
        Size = size;
        Pages = pages;
        SgTable = sgt;
    }

    public IDmaDevice Device { get; }

    public DmaDirection Direction { get; }

    public long Size { get; }

    public int[] Pages { get; }

    /// <summary>buf->dma_sgt: mapped for <see cref="Device"/> while the buffer lives.</summary>
    public SgTable SgTable { get; }

    public int RefCount => Volatile.Read(ref _refcount);

    /// <summary>
    /// vb2_dma_sg_alloc: get the device, compacted pages (zeroed by the arena), an sg table within the
    /// device's max segment, map it skipping the CPU sync; undo all of it on failure.
    /// </summary>
    public static LockedBuffer Alloc(ZoneAllocator zone, IDmaDevice device, long size, DmaDirection dir, string name)
    {
        ArgumentNullException.ThrowIfNull(zone);
        ArgumentNullException.ThrowIfNull(device);
        dir.ThrowIfInvalidForMapping();
        PageArena arena = zone.Arena;
        int pageCount = Sizes.PageCount(size, arena.PageSize);
        long alignedSize = (long)pageCount * arena.PageSize;
        device.Get();
        int[]? pages = null;
        try
        {
            pages = zone.AllocCompacted(pageCount);

            // The arena's page addresses are fixed at construction: reading them needs no zone lock.
            var sgt = SgTable.FromArenaPages(arena, pages, 0, alignedSize, device.MaxSegmentSize, name);
            device.MapSg(sgt, dir, DmaAttrs.SkipCpuSync);
            return new LockedBuffer(zone, device, dir, alignedSize, pages, sgt);
        }
        catch
        {
            if (pages is not null)
            {
                zone.Free(pages);
            }

            device.Put();
            throw;
        }
    }

    /// <summary>prepare: dma_sync_sg_for_device over orig_nents.</summary>
    public void Prepare() => Device.SyncSgForDevice(SgTable, SgTable.OrigNents, Direction);

    /// <summary>finish: dma_sync_sg_for_cpu over orig_nents.</summary>
    public void Finish() => Device.SyncSgForCpu(SgTable, SgTable.OrigNents, Direction);

    /// <summary>refcount_inc.</summary>
    public void AddRef()
    {
        if (Interlocked.Increment(ref _refcount) <= 1)
        {
            throw new DmaSgException(DmaSgError.UseAfterRelease, "refcount_inc on a freed buffer");
        }
    }

    /// <summary>vb2_dma_sg_put: refcount_dec_and_test; the last ref unmaps, frees the pages and puts the device.</summary>
    public void Put()
    {
        int left = Interlocked.Decrement(ref _refcount);
        if (left > 0)
        {
            return;
        }

        if (left < 0)
        {
            throw new DmaSgException(DmaSgError.UseAfterRelease, "put of a freed buffer");
        }

        Device.UnmapSg(SgTable, SgTable.OrigNents, Direction, DmaAttrs.SkipCpuSync);
        _zone.Free(Pages);
        Device.Put();
    }

    /// <summary>vb2_dma_sg_get_dmabuf: export; the dmabuf keeps a ref on the buffer.</summary>
    public LockedDmaBuf Export()
    {
        AddRef();
        return new LockedDmaBuf(this);
    }
}
