using Akka.Actor;

namespace DmaSg.Actors.Protocol;

/// <summary>num_users: the buffer's refcount. Reply: <see cref="NumUsers"/>.</summary>
public sealed record GetNumUsers : IDmaSgRequest
{
    public static readonly GetNumUsers Instance = new();
}

public sealed record NumUsers(int Count) : IDmaSgReply;

/// <summary>munmap of a user mapping made by <see cref="Mmap"/>: drops its ref. Reply: <see cref="RefDropped"/>.</summary>
public sealed record Munmap(long MappingId, IActorRef Holder) : IDmaSgRequest;

/// <summary>
/// vb2_dma_sg_put_userptr: drops the holder's ref on a USERPTR buffer. Reply: <see cref="UserptrReleased"/>
/// (dirty pages are reported when this freed the buffer).
/// </summary>
public sealed record PutUserptr(IActorRef Holder) : IDmaSgRequest;

/// <summary>The pages the device may have written (FromDevice, Bidirectional), reported when the buffer was freed.</summary>
public sealed record UserptrReleased(IReadOnlyList<nint> DirtyPages, int RefCount) : IDmaSgReply;

/// <summary>
/// vb2_dma_sg_get_dmabuf: exports the buffer as a dmabuf, which keeps one buffer ref until its own last
/// ref (owned by <paramref name="Holder"/> first) is gone. Reply: <see cref="Exported"/>.
/// </summary>
public sealed record ExportDmaBuf(IActorRef Holder) : IDmaSgRequest;

public sealed record Exported(IActorRef DmaBuf, long Id, long Size) : IDmaSgReply;
