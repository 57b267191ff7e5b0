using DmaSg.Interop;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Dma;

namespace DmaSg.Memory.Buffers;

/// <summary>A dma-heap dmabuf and the CPU mapping of it that an <see cref="SgBuffer"/> of the dma-heap backend owns.</summary>
internal sealed class HeapMemory : IDisposable
{
    private HeapMemory(ExportedBuffer buffer, SafeMapping mapping)
    {
        Buffer = buffer;
        Mapping = mapping;
    }

    public ExportedBuffer Buffer { get; }

    public SafeMapping Mapping { get; }

    public int PageSize => Environment.SystemPageSize;

    public int PageCount => checked((int)(Buffer.Size / PageSize));

    /// <summary>Maps <paramref name="buffer"/> (taking ownership only on success); failures are typed.</summary>
    public static HeapMemory Map(ExportedBuffer buffer)
    {
        try
        {
            return new HeapMemory(buffer, buffer.Map());
        }
        catch (ErrnoException e)
        {
            throw new DmaSgException(e.Errno == Errno.ENOMEM ? DmaSgError.OutOfMemory : DmaSgError.Io, $"{buffer.Name}: cannot map the dmabuf: {e.Message}", e);
        }
    }

    /// <summary>DMA_BUF_IOCTL_SYNC: END when the CPU is done (prepare), START before it looks (finish).</summary>
    public void Sync(bool end, DmaDirection direction)
    {
        try
        {
            if (end)
            {
                Buffer.Prepare(direction);
            }
            else
            {
                Buffer.Finish(direction);
            }
        }
        catch (ErrnoException e)
        {
            throw new DmaSgException(DmaSgError.Io, $"{Buffer.Name}: DMA_BUF_IOCTL_SYNC failed: {e.Message}", e);
        }
    }

    public void Dispose()
    {
        try
        {
            Mapping.Dispose();
        }
        finally
        {
            Buffer.Dispose();
        }
    }
}
