using DmaSg.Actors.Protocol;
using DmaSg.Interop;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Facade;

/// <summary>
/// A buffer exported as a file descriptor (dma_buf_fd): a real dmabuf where the kernel allows it (dma-heap,
/// udmabuf), a sealed memfd otherwise, as dmasg.export.providers orders. The handle holds one buffer ref and
/// the fd; <see cref="Handle.DisposeAsync"/> closes the fd and drops the ref. If the client's holder dies, the
/// buffer closes the fd and drops the ref by itself.
/// <para>
/// Send it to another process with <c>channel.SendBuffer(handle.Buffer)</c> (SCM_RIGHTS): the receiver's fd
/// and mappings keep the memory alive on their own, whatever this side closes. For a udmabuf
/// (<see cref="SharesArenaPages"/>) or a dma-heap backend buffer the fd is the buffer's memory; for a copy (dma-heap, memfd) call
/// <see cref="PrepareAsync"/> before the fd's user reads and <see cref="FinishAsync"/> after it wrote (see
/// <see cref="BufferExport"/>).
/// </para>
/// </summary>
public sealed class FdHandle : Handle
{
    internal FdHandle(DmaSgClient client, FdExported exported)
        : base(client, exported.Buffer)
    {
        ExportId = exported.ExportId;
        Buffer = exported.Fd;
        Direction = exported.Direction;
        Kind = exported.Kind;
        Size = exported.Size;
        Provider = exported.Fd.Provider;
        SharesArenaPages = exported.SharesArenaPages;
        IsZeroCopy = exported.IsZeroCopy;
    }

    public long ExportId { get; }

    /// <summary>
    /// The exported fd with its kind, size and name: pass it to <see cref="FdChannel.SendBuffer"/>, or
    /// <see cref="ExportedBuffer.Map"/> it. Owned by this handle: do not dispose it, dispose the handle.
    /// </summary>
    public ExportedBuffer Buffer { get; }

    /// <summary>The fd itself; closed when the handle is disposed.</summary>
    public SafeFd Fd
    {
        get
        {
            ThrowIfDisposed();
            return Buffer.Fd;
        }
    }

    public ExportKind Kind { get; }

    /// <summary>True for a real kernel dmabuf (dma-heap or udmabuf), false for a memfd.</summary>
    public bool IsDmabuf => Kind.IsDmabuf();

    /// <summary>Bytes, whole pages.</summary>
    public long Size { get; }

    /// <summary>The provider that made the fd, e.g. "udmabuf" or "memfd".</summary>
    public string Provider { get; }

    /// <summary>True when the fd is the buffer's own pages (udmabuf); false when it holds a copy.</summary>
    public bool SharesArenaPages { get; }

    /// <summary>
    /// True when the fd is the buffer's own memory (udmabuf, or a buffer of the dma-heap backend): no copy, and
    /// prepare/finish are only the SYNC END/START bracket. False: a copy that prepare/finish keep coherent.
    /// </summary>
    public bool IsZeroCopy { get; }

    /// <summary>How the fd's user uses the memory; it decides what prepare and finish copy for a copy.</summary>
    public DmaDirection Direction { get; }

    /// <summary>A second fd of the same memory that the caller owns and closes (F_DUPFD_CLOEXEC).</summary>
    public SafeFd DuplicateFd()
    {
        ThrowIfDisposed();
        return Buffer.DuplicateFd();
    }

    /// <summary>
    /// The buffer side is done, the fd's user may go: SYNC END for a udmabuf; for a copy, the buffer's bytes
    /// are copied into the fd (ToDevice, Bidirectional).
    /// </summary>
    public Task PrepareAsync() => Ask<Done>(new PrepareFd(ExportId));

    /// <summary>
    /// The fd's user is done, the buffer may be read: SYNC START for a udmabuf; for a copy, the fd's bytes are
    /// copied back into the buffer (FromDevice, Bidirectional).
    /// </summary>
    public Task FinishAsync() => Ask<Done>(new FinishFd(ExportId));

    public override string ToString() => $"FdHandle({Buffer.Name}: {Kind} {Size} bytes from {Provider}{(IsDisposed ? ", disposed" : string.Empty)})";

    private protected override IDmaSgRequest ReleaseRequest() => new CloseFd(ExportId, Client.Holder);

    // The buffer actor closed the fd already; when it could not be asked (gone, timed out), close ours here.
    private protected override void AfterRelease() => Buffer.Dispose();
}
