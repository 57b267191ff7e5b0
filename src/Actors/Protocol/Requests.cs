using Akka.Actor;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Protocol;

// Requests understood by more than one kind of actor. Each gets exactly one reply.

/// <summary>
/// Another ref on a buffer (refcount_inc) or a dmabuf (get_dma_buf), owned by <paramref name="Holder"/>,
/// which DeathWatch releases if it dies. Reply: <see cref="RefTaken"/>.
/// </summary>
public sealed record AddRef(IActorRef Holder) : IDmaSgRequest;

/// <summary>
/// vb2_dma_sg_put / dma_buf_put: drops one ref of <paramref name="Holder"/>; the last one frees the object.
/// Reply: <see cref="RefDropped"/>, or InvalidArgument when the holder holds no ref.
/// </summary>
public sealed record Put(IActorRef Holder) : IDmaSgRequest;

/// <summary>prepare: sync for the device before it touches the buffer (a no-op for an importer). Reply: <see cref="Done"/>.</summary>
public sealed record Prepare : IDmaSgRequest
{
    public static readonly Prepare Instance = new();
}

/// <summary>finish: sync for the CPU before it reads (a no-op for an importer: the exporter syncs). Reply: <see cref="Done"/>.</summary>
public sealed record Finish : IDmaSgRequest
{
    public static readonly Finish Instance = new();
}

/// <summary>vaddr (buffer), vmap (dmabuf, importer): the buffer as one contiguous CPU range. Reply: <see cref="Vaddr"/>.</summary>
public sealed record GetVaddr : IDmaSgRequest
{
    public static readonly GetVaddr Instance = new();
}

/// <summary>The contiguous CPU view of a buffer, cached until the buffer is freed.</summary>
public sealed record Vaddr(nint Address, long Size) : IDmaSgReply;

/// <summary>kmap of one page (bounds-checked; Fault outside the buffer). Reply: <see cref="Kmapped"/>.</summary>
public sealed record Kmap(int PageNumber) : IDmaSgRequest;

public sealed record Kmapped(nint Address) : IDmaSgReply;

/// <summary>
/// mmap: maps the first <paramref name="Length"/> bytes for the caller; the mapping holds one buffer ref
/// owned by <paramref name="Holder"/>. Also accepted by a dmabuf (dma_buf_mmap). Reply: <see cref="Mmapped"/>.
/// </summary>
public sealed record Mmap(long Length, IActorRef Holder) : IDmaSgRequest;

/// <summary>A user mapping: munmap it at <see cref="Buffer"/> with <see cref="Munmap"/>.</summary>
public sealed record Mmapped(IActorRef Buffer, long MappingId, nint Address, long Length, long MappedLength) : IDmaSgReply;

/// <summary>cookie: the buffer's mapped sg table (for an importer: the pinned one). Reply: <see cref="Cookie"/>.</summary>
public sealed record GetCookie : IDmaSgRequest
{
    public static readonly GetCookie Instance = new();
}

public sealed record Cookie(SgTableInfo Table) : IDmaSgReply;

/// <summary>CPU read of <paramref name="Count"/> bytes at <paramref name="Offset"/> (Fault outside the buffer). Reply: <see cref="BytesRead"/>.</summary>
public sealed record ReadBytes(long Offset, int Count) : IDmaSgRequest;

/// <summary>CPU write of <paramref name="Data"/> at <paramref name="Offset"/>. Reply: <see cref="BytesWritten"/>.</summary>
public sealed record WriteBytes(long Offset, byte[] Data) : IDmaSgRequest;

/// <summary>The device reads <paramref name="Count"/> bytes at buffer offset <paramref name="Offset"/> through its DMA mapping. Reply: <see cref="BytesRead"/>.</summary>
public sealed record DmaRead(long Offset, int Count) : IDmaSgRequest;

/// <summary>The device writes <paramref name="Data"/> at buffer offset <paramref name="Offset"/> through its DMA mapping. Reply: <see cref="BytesWritten"/>.</summary>
public sealed record DmaWrite(long Offset, byte[] Data) : IDmaSgRequest;

public sealed record BytesRead(long Offset, byte[] Data) : IDmaSgReply;

public sealed record BytesWritten(long Offset, int Count) : IDmaSgReply;

/// <summary>Detach: an attachment unmaps if mapped and stops; an importer unpins (with a warning) first. Reply: <see cref="Done"/>.</summary>
public sealed record Detach : IDmaSgRequest
{
    public static readonly Detach Instance = new();
}

/// <summary>
/// Asks any DmaSg actor for its state: the allocator answers <see cref="DmaSgInspection"/>, a buffer
/// <see cref="BufferInfo"/>, a dmabuf <see cref="DmaBufInfo"/>, an attachment <see cref="AttachmentInfo"/>,
/// an importer <see cref="ImporterInfo"/>.
/// </summary>
public sealed record Inspect : IDmaSgRequest
{
    public static readonly Inspect Instance = new();
}

/// <summary>Answer of an actor to <see cref="Inspect"/>; <see cref="Subject"/> is the actor described.</summary>
public interface IInspectReply : IDmaSgReply
{
    IActorRef Subject { get; }
}
