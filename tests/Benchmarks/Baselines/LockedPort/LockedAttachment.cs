using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Benchmarks.Baselines.LockedPort;

/// <summary>vb2_dma_sg_attachment: the attachment's own sg copy and the direction it is mapped in (None = not mapped).</summary>
public sealed class LockedAttachment
{
    internal LockedAttachment(LockedDmaBuf dmaBuf, IDmaDevice device, SgTable sgt)
    {
        DmaBuf = dmaBuf;
        Device = device;
        SgTable = sgt;
    }

    public LockedDmaBuf DmaBuf { get; }

    public IDmaDevice Device { get; }

    public SgTable SgTable { get; }

    public DmaDirection CachedDirection { get; private set; } = DmaDirection.None;

    /// <summary>
    /// ops->map_dma_buf under the stolen dmabuf->lock: the cached table when the direction matches;
    /// otherwise unmap the old direction and map the new one. A failed map leaves it unmapped (-EIO).
    /// </summary>
    public SgTable Map(DmaDirection dir)
    {
        lock (DmaBuf.Mutex)
        {
            if (CachedDirection == dir)
            {
                return SgTable;
            }

            if (CachedDirection != DmaDirection.None)
            {
                Device.UnmapSg(SgTable, SgTable.OrigNents, CachedDirection);
                CachedDirection = DmaDirection.None;
            }

            Device.MapSg(SgTable, dir);
            CachedDirection = dir;
            return SgTable;
        }
    }

    /// <summary>ops->unmap_dma_buf: nothing; the mapping stays cached until detach.</summary>
    public static void Unmap(SgTable sgt, DmaDirection dir)
    {
        _ = sgt;
        _ = dir;
    }

    /// <summary>The detach op's body; the caller holds dmabuf->lock.</summary>
    internal void ReleaseCache()
    {
        if (CachedDirection != DmaDirection.None)
        {
            Device.UnmapSg(SgTable, SgTable.OrigNents, CachedDirection);
            CachedDirection = DmaDirection.None;
        }
    }
}
