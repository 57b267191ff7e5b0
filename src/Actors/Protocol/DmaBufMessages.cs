using Akka.Actor;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Protocol;

/// <summary>
/// dma_buf_attach for <paramref name="Device"/>: a new attachment with its own sg copy, holding a dmabuf ref
/// until it detaches; Fault when the dmabuf is smaller than <paramref name="MinSize"/> (0: no check). The
/// attachment detaches by itself when <paramref name="Holder"/> dies. Reply: <see cref="AttachmentCreated"/>.
/// </summary>
public sealed record Attach(string Device, long MinSize, IActorRef Holder) : IDmaSgRequest;

public sealed record AttachmentCreated(IActorRef Attachment, long Id, long DmaBufSize) : IDmaSgReply;

/// <summary>
/// dma_buf_map_attachment: the cached mapping when <paramref name="Direction"/> is unchanged; otherwise unmap
/// the old one and map anew, or Io. Reply: <see cref="AttachmentMapped"/>.
/// </summary>
public sealed record MapAttachment(DmaDirection Direction) : IDmaSgRequest;

public sealed record AttachmentMapped(SgTableInfo Table, DmaDirection Direction, bool Cached) : IDmaSgReply;

/// <summary>dma_buf_unmap_attachment: keeps the cached mapping, as the seed does. Reply: <see cref="Done"/>.</summary>
public sealed record UnmapAttachment(DmaDirection Direction) : IDmaSgRequest;
