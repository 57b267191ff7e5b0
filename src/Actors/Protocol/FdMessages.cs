using Akka.Actor;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Protocol;

// Exporting a buffer as a file descriptor (dma_buf_fd): what crosses into another process or a driver.

/// <summary>
/// Exports the buffer as an fd, made by the allocator's providers in the order of dmasg.export.providers:
/// a real dmabuf where the kernel allows it (dma-heap, udmabuf), a sealed memfd otherwise. The export holds
/// one buffer ref owned by <paramref name="Holder"/> until <see cref="CloseFd"/>, the holder's death, or the
/// buffer's forced release; each of those also closes the fd. <paramref name="Direction"/> is how the fd's
/// user uses the memory (default: the buffer's own direction); it decides what <see cref="PrepareFd"/> and
/// <see cref="FinishFd"/> copy for a copy-kind fd. Sent to a dmabuf, it is relayed to its buffer.
/// Only a holder in this process can own an fd (InvalidArgument otherwise); USERPTR buffers are refused.
/// Reply: <see cref="FdExported"/>.
/// </summary>
public sealed record ExportFd(IActorRef Holder, DmaDirection? Direction = null, string? Name = null) : IDmaSgRequest;

/// <summary>
/// The exported fd. <paramref name="Fd"/> is a live object of this process (so this reply never crosses
/// nodes): its fd, kind, size and provider. It stays open until <see cref="CloseFd"/> (or the holder dies);
/// pass it to <see cref="FdChannel.SendBuffer"/>, mmap it, or <see cref="ExportedBuffer.DuplicateFd"/> it
/// for an fd of your own. Do not dispose it yourself while the export is live: use <see cref="CloseFd"/>.
/// </summary>
/// <param name="IsZeroCopy">The fd is the buffer's own memory (udmabuf, or a dma-heap backend buffer's dmabuf); false: a copy.</param>
public sealed record FdExported(IActorRef Buffer, long ExportId, ExportedBuffer Fd, DmaDirection Direction, bool IsZeroCopy) : IDmaSgReply
{
    public ExportKind Kind => Fd.Kind;

    /// <summary>True for a real kernel dmabuf (dma-heap or udmabuf), false for a memfd.</summary>
    public bool IsDmabuf => Fd.IsDmabuf;

    public long Size => Fd.Size;

    /// <summary>True when the fd is the buffer's own pages (udmabuf); false when it holds a copy.</summary>
    public bool SharesArenaPages => Fd.SharesArenaPages;
}

/// <summary>Closes an exported fd (ours; a copy sent elsewhere lives on) and drops its buffer ref. Reply: <see cref="RefDropped"/>.</summary>
public sealed record CloseFd(long ExportId, IActorRef Holder) : IDmaSgRequest;

/// <summary>
/// The buffer side is done, the fd's user may go: udmabuf SYNC END; for a copy, the buffer's bytes are copied
/// into the fd (ToDevice, Bidirectional). Reply: <see cref="Done"/>.
/// </summary>
public sealed record PrepareFd(long ExportId) : IDmaSgRequest;

/// <summary>
/// The fd's user is done, the buffer may be read: udmabuf SYNC START; for a copy, the fd's bytes are copied
/// back into the buffer (FromDevice, Bidirectional). Reply: <see cref="Done"/>.
/// </summary>
public sealed record FinishFd(long ExportId) : IDmaSgRequest;

/// <summary>A buffer made a udmabuf of its pages: the allocator must detach them before freeing them.</summary>
internal sealed record PagesShared(IActorRef Buffer) : IDmaSgMessage;
