using DmaSg.Memory;
using DmaSg.Memory.Dma;

namespace DmaSg.Benchmarks.Baselines.LockedPort;

/// <summary>
/// struct dma_buf with the seed's exporter ops. One mutex per dmabuf (dmabuf->lock): the dma-buf core
/// takes it around attach and detach, and the seed's map op "steals" it to serialize map/unmap of every
/// attachment of this dmabuf. The file refcount is atomic.
/// </summary>
public sealed class LockedDmaBuf
{
    private int _refcount = 1;

    internal LockedDmaBuf(LockedBuffer buffer)
    {
        Buffer = buffer;
        Size = buffer.Size;
    }

    public LockedBuffer Buffer { get; }

    public long Size { get; }

    /// <summary>dmabuf->lock.</summary>
    internal Lock Mutex { get; } = new();

    /// <summary>get_dma_buf / dma_buf_get on an fd.</summary>
    public void Get()
    {
        if (Interlocked.Increment(ref _refcount) <= 1)
        {
            throw new DmaSgException(DmaSgError.UseAfterRelease, "get of a released dmabuf");
        }
    }

    /// <summary>dma_buf_put; the last ref runs the release op, which drops the exporter's buffer ref.</summary>
    public void Put()
    {
        int left = Interlocked.Decrement(ref _refcount);
        if (left == 0)
        {
            Buffer.Put();
        }
        else if (left < 0)
        {
            throw new DmaSgException(DmaSgError.UseAfterRelease, "put of a released dmabuf");
        }
    }

    /// <summary>dma_buf_attach: ops->attach (an sg copy, direction DMA_NONE) under dmabuf->lock.</summary>
    public LockedAttachment Attach(IDmaDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        lock (Mutex)
        {
            // Copy the buffer's table: one sg list cannot be mapped for several attachments at once.
            return new LockedAttachment(this, device, Buffer.SgTable.Clone($"{Buffer.SgTable.Owner}/attach:{device.Name}"));
        }
    }

    /// <summary>dma_buf_detach: ops->detach (unmap the cached mapping, free the copy) under dmabuf->lock.</summary>
    public void Detach(LockedAttachment attachment)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        lock (Mutex)
        {
            attachment.ReleaseCache();
        }
    }
}
