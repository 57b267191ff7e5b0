using DmaSg.Interop;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Backends;

/// <summary>
/// An arena buffer exported as an fd (<see cref="ProviderChain.Export(PageArena, SgTable, string)"/>) and kept
/// coherent with it. Single-threaded: the buffer's owner (its actor) creates, syncs and disposes it, and must
/// dispose it before the buffer's pages are freed.
/// <list type="bullet">
/// <item><b>udmabuf</b> (<see cref="SharesArenaPages"/>), and a buffer that is a dma-heap dmabuf itself
/// (<see cref="OfDmabuf"/>): the fd is the buffer's own memory, so there is no copy (<see cref="IsZeroCopy"/>).
/// <see cref="Prepare"/> and <see cref="Finish"/> are DMA_BUF_IOCTL_SYNC END and START (the CPU-access bracket).</item>
/// <item><b>dma-heap, memfd</b> (<see cref="IsCopy"/>): the fd holds a copy made at export time. From then on it
/// is the fd user's bounce buffer, with swiotlb's rules in the export's <see cref="Direction"/>:
/// <see cref="Prepare"/> (before the fd's user reads) copies the buffer into the fd for ToDevice and
/// Bidirectional; <see cref="Finish"/> (after the fd's user wrote, before the buffer is read) copies the fd
/// back into the buffer for FromDevice and Bidirectional. A dma-heap copy is bracketed by SYNC START/END.</item>
/// </list>
/// Here "device" is whoever uses the fd: another process, or a driver that imported it.
/// </summary>
public sealed class BufferExport : IDisposable
{
    private readonly SgTable? _sgt;
    private readonly SafeMapping? _copy;
    private bool _disposed;

    private BufferExport(ExportedBuffer buffer, SgTable? sgt, DmaDirection direction, SafeMapping? copy)
    {
        Buffer = buffer;
        _sgt = sgt;
        Direction = direction;
        _copy = copy;
    }

    /// <summary>The fd and what it is. Its owner may close it early; <see cref="Dispose"/> closes it anyway.</summary>
    public ExportedBuffer Buffer { get; }

    /// <summary>How the fd's user uses the memory: ToDevice reads it, FromDevice writes it, Bidirectional both.</summary>
    public DmaDirection Direction { get; }

    /// <summary>True for udmabuf: the fd aliases the buffer's pages.</summary>
    public bool SharesArenaPages => Buffer.SharesArenaPages;

    /// <summary>True for dma-heap and memfd: the fd holds its own copy, refreshed by <see cref="Prepare"/>/<see cref="Finish"/>.</summary>
    public bool IsCopy => _copy is not null;

    /// <summary>True when the fd is the buffer's own memory (udmabuf, or the buffer's own heap dmabuf).</summary>
    public bool IsZeroCopy => _copy is null;

    /// <summary>
    /// Exports the arena pages of <paramref name="sgt"/> (a whole-page buffer) through <paramref name="chain"/>.
    /// Every failure is a <see cref="DmaSgException"/> and leaves nothing open.
    /// </summary>
    public static BufferExport Create(ProviderChain chain, PageArena arena, SgTable sgt, DmaDirection direction, string name)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(name);
        direction.ThrowIfInvalidForMapping();
        ExportedBuffer buffer = Typed(name, () => chain.Export(arena, sgt, name));
        try
        {
            SafeMapping? copy = buffer.SharesArenaPages ? null : Typed(name, () => buffer.Map());
            var export = new BufferExport(buffer, sgt, direction, copy);
            export.OpenCpuAccess();
            return export;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A buffer that already is a kernel dmabuf (the dma-heap backend): its export is a dup of that fd, the same
    /// memory with no copy; prepare/finish are SYNC END/START.
    /// </summary>
    public static BufferExport OfDmabuf(ExportedBuffer dmabuf, DmaDirection direction, string name)
    {
        ArgumentNullException.ThrowIfNull(dmabuf);
        ArgumentNullException.ThrowIfNull(name);
        direction.ThrowIfInvalidForMapping();
        var export = new BufferExport(Typed(name, () => dmabuf.Duplicate(name)), sgt: null, direction, copy: null);
        try
        {
            export.OpenCpuAccess();
            return export;
        }
        catch
        {
            export.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The buffer side is done; the fd's user may go. udmabuf: SYNC END. A copy: the buffer's bytes go into
    /// the fd when the fd's user reads them (ToDevice, Bidirectional).
    /// </summary>
    public void Prepare()
    {
        ThrowIfDisposed();
        Typed(Buffer.Name, () =>
        {
            if (_copy is null)
            {
                Buffer.Prepare(Direction);
            }
            else if (Direction.DeviceReads())
            {
                // We write the fd's memory as a CPU: bracket it as every dmabuf writer must (a no-op for a memfd).
                Buffer.BeginCpuAccess(DmaDirection.ToDevice);
                ExportSupport.CopyOut(_sgt!, _copy);
                Buffer.EndCpuAccess(DmaDirection.ToDevice);
            }
            else
            {
                _ = Buffer.Fd;
            }

            return 0;
        });
    }

    /// <summary>
    /// The fd's user is done; the buffer may be read. udmabuf: SYNC START. A copy: the fd's bytes come back
    /// into the buffer when the fd's user writes them (FromDevice, Bidirectional).
    /// </summary>
    public void Finish()
    {
        ThrowIfDisposed();
        Typed(Buffer.Name, () =>
        {
            if (_copy is null)
            {
                Buffer.Finish(Direction);
            }
            else if (Direction.DeviceWrites())
            {
                Buffer.BeginCpuAccess(DmaDirection.FromDevice);
                ExportSupport.CopyIn(_copy, _sgt!);
                Buffer.EndCpuAccess(DmaDirection.FromDevice);
            }
            else
            {
                _ = Buffer.Fd;
            }

            return 0;
        });
    }

    /// <summary>Unmaps our copy's view and closes the fd (if its owner has not already). Idempotent.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _copy?.Dispose();
        Buffer.Dispose();
    }

    public override string ToString() => $"{Buffer} ({Direction}{(IsCopy ? ", copy" : ", zero-copy")})";

    // A zero-copy fd starts in the CPU's hands (SYNC START), so the first prepare (SYNC END) closes an open
    // bracket: udmabuf refuses an END that no START opened (EINVAL).
    private void OpenCpuAccess()
    {
        if (_copy is null)
        {
            Typed(Buffer.Name, () =>
            {
                Buffer.Finish(Direction);
                return 0;
            });
        }
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            throw new DmaSgException(DmaSgError.UseAfterRelease, $"{Buffer.Name}: the exported fd was closed");
        }
    }

    // The owner is an actor: anything but a typed failure would crash it, so syscall and closed-fd errors become typed.
    private static T Typed<T>(string name, Func<T> op)
    {
        try
        {
            return op();
        }
        catch (ObjectDisposedException)
        {
            throw new DmaSgException(DmaSgError.UseAfterRelease, $"{name}: the exported fd was closed");
        }
        catch (ErrnoException e)
        {
            DmaSgError error = e.Errno == Errno.ENOMEM ? DmaSgError.OutOfMemory : DmaSgError.Io;
            throw new DmaSgException(error, $"{name}: {e.Message}", e);
        }
    }
}
