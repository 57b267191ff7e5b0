using DmaSg.Memory;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Benchmarks.Baselines.LockedPort;

/// <summary>
/// vb2_dma_sg_buf on the importer side (the DMABUF memory model): attach_dmabuf, map_dmabuf (pin),
/// unmap_dmabuf (unpin), detach_dmabuf. Used by one thread, like a vb2 queue under its own lock.
/// </summary>
public sealed class LockedImporter
{
    private readonly LockedDmaBuf _dmaBuf;
    private readonly LockedAttachment _attachment;
    private bool _detached;

    private LockedImporter(LockedDmaBuf dmaBuf, LockedAttachment attachment, DmaDirection dir, long size)
    {
        _dmaBuf = dmaBuf;
        _attachment = attachment;
        Direction = dir;
        Size = size;
    }

    public DmaDirection Direction { get; }

    public long Size { get; }

    public IDmaDevice Device => _attachment.Device;

    /// <summary>buf->dma_sgt: the mapped table while pinned, else null.</summary>
    public SgTable? DmaSgTable { get; private set; }

    /// <summary>
    /// dma_buf_get + vb2_dma_sg_attach_dmabuf: a size larger than the dmabuf is Fault; the importer holds
    /// its own ref on the dmabuf until it detaches.
    /// </summary>
    public static LockedImporter Attach(IDmaDevice device, LockedDmaBuf dmaBuf, long size, DmaDirection dir)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(dmaBuf);
        dir.ThrowIfInvalidForMapping();
        if (dmaBuf.Size < size)
        {
            throw new DmaSgException(DmaSgError.Fault, $"importing {size} bytes of a {dmaBuf.Size}-byte dmabuf");
        }

        dmaBuf.Get();
        try
        {
            return new LockedImporter(dmaBuf, dmaBuf.Attach(device), dir, size);
        }
        catch
        {
            dmaBuf.Put();
            throw;
        }
    }

    /// <summary>vb2_dma_sg_map_dmabuf: dma_buf_map_attachment in the importer's direction.</summary>
    public SgTable Pin()
    {
        if (_detached)
        {
            throw new DmaSgException(DmaSgError.NotAttached, "pin after detach");
        }

        if (DmaSgTable is not null)
        {
            throw new DmaSgException(DmaSgError.AlreadyPinned, "dmabuf buffer is already pinned");
        }

        DmaSgTable = _attachment.Map(Direction);
        return DmaSgTable;
    }

    /// <summary>vb2_dma_sg_unmap_dmabuf: dma_buf_unmap_attachment.</summary>
    public void Unpin()
    {
        if (DmaSgTable is null)
        {
            throw new DmaSgException(DmaSgError.NotPinned, "dmabuf buffer is already unpinned");
        }

        LockedAttachment.Unmap(DmaSgTable, Direction);
        DmaSgTable = null;
    }

    /// <summary>vb2_dma_sg_detach_dmabuf (unpinning first if needed) + dma_buf_put.</summary>
    public void Detach()
    {
        if (_detached)
        {
            return;
        }

        if (DmaSgTable is not null)
        {
            Unpin();
        }

        _detached = true;
        _dmaBuf.Detach(_attachment);
        _dmaBuf.Put();
    }
}
