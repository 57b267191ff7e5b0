using Akka.Actor;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Actors.Protocol;

/// <summary>Marker of every DmaSg protocol message (requests and replies); the wire serializer binds to it.</summary>
public interface IDmaSgMessage
{
}

/// <summary>A request: the receiving actor answers it with exactly one <see cref="IDmaSgReply"/>.</summary>
public interface IDmaSgRequest : IDmaSgMessage
{
}

/// <summary>A reply: a success record, or <see cref="DmaSgFailure"/>.</summary>
public interface IDmaSgReply : IDmaSgMessage
{
}

/// <summary>
/// The typed failure reply: the request changed nothing. <see cref="Error"/> says what kind
/// (InvalidArgument, OutOfMemory, Fault, NotAttached, AlreadyPinned, NotPinned, UseAfterRelease,
/// QuotaExceeded, DeviceGone, Io, DmaApiViolation); <see cref="Violation"/> names the DMA-API check.
/// </summary>
public sealed record DmaSgFailure(DmaSgError Error, string Message, DmaApiViolationKind? Violation = null) : IDmaSgReply
{
    public static DmaSgFailure From(DmaSgException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new DmaSgFailure(e.Error, e.Detail, (e as DmaApiException)?.Kind);
    }

    /// <summary>The answer for a message to an object whose last reference is gone.</summary>
    public static DmaSgFailure Released(string what) => new(DmaSgError.UseAfterRelease, $"{what} was already released");

    public DmaSgException ToException() => new(Error, Message);

    public override string ToString() => $"{Error}: {Message}";
}

/// <summary>Success with nothing to say (prepare, finish, unmap of an attachment, detach, unpin).</summary>
public sealed record Done : IDmaSgReply
{
    public static readonly Done Instance = new();
}

/// <summary>A ref was taken; <see cref="RefCount"/> is the object's count afterwards.</summary>
public sealed record RefTaken(int RefCount) : IDmaSgReply;

/// <summary>A ref was dropped; <see cref="RefCount"/> is the count afterwards (0: the object was freed).</summary>
public sealed record RefDropped(int RefCount) : IDmaSgReply
{
    public bool Freed => RefCount == 0;
}

/// <summary>
/// An sg table as a value: the CPU entries (orig_nents) and, while mapped, the DMA segments (nents).
/// This is what the cookie memop and a dmabuf map hand a driver.
/// </summary>
public sealed record SgTableInfo(string Owner, int OrigNents, int Nents, long Length, int FirstOffset,
    IReadOnlyList<SgEntry> Entries, IReadOnlyList<DmaSegment> Segments)
{
    public static SgTableInfo From(SgTable sgt)
    {
        ArgumentNullException.ThrowIfNull(sgt);
        return new SgTableInfo(sgt.Owner, sgt.OrigNents, sgt.Nents, sgt.Length, sgt.FirstOffset,
            sgt.Entries.ToArray(), sgt.Dma.ToArray());
    }

    public bool IsMapped => Nents > 0;
}

/// <summary>Who holds how many refs of an object.</summary>
public sealed record HolderRefs(IActorRef Holder, int Refs);
