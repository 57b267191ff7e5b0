using Akka.Actor;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Protocol;

/// <summary>
/// vb2_dma_sg_alloc: <paramref name="Size"/> bytes (rounded up to pages) of compacted arena pages for
/// <paramref name="Device"/> (a registered device name), mapped <paramref name="Direction"/>. The first ref
/// belongs to <paramref name="Holder"/>. Reply: <see cref="BufferCreated"/>.
/// </summary>
public sealed record Allocate(long Size, DmaDirection Direction, string Device, IActorRef Holder, string? Name = null) : IDmaSgRequest;

/// <summary>Caller memory for <see cref="GetUserptr"/>.</summary>
public abstract record UserMemory
{
    private UserMemory()
    {
    }

    /// <summary>Native memory the caller keeps mapped until the buffer is released.</summary>
    public sealed record Native(nint Address, long Length) : UserMemory;

    /// <summary>Managed memory, pinned until the buffer is released.</summary>
    public sealed record Managed(Memory<byte> Memory) : UserMemory;

    /// <summary>Read-only memory: ToDevice only (the device never writes it).</summary>
    public sealed record ReadOnly(ReadOnlyMemory<byte> Memory) : UserMemory;
}

/// <summary>
/// vb2_dma_sg_get_userptr: a buffer over caller memory (pinned, not arena pages), first ref owned by
/// <paramref name="Holder"/>. Release it with <see cref="PutUserptr"/>. Reply: <see cref="BufferCreated"/>.
/// </summary>
public sealed record GetUserptr(UserMemory Memory, DmaDirection Direction, string Device, IActorRef Holder, string? Name = null) : IDmaSgRequest;

/// <summary>A new buffer actor and its first ref (owned by the requesting holder).</summary>
public sealed record BufferCreated(IActorRef Buffer, long Id, string Name, long Size, int NumPages, int OrigNents, int Nents,
    bool IsUserptr, string Device, DmaDirection Direction) : IDmaSgReply;

/// <summary>
/// vb2_dma_sg_attach_dmabuf: an importer of <paramref name="DmaBuf"/> for <paramref name="Device"/>, which will
/// map it <paramref name="Direction"/>; Fault when the dmabuf is smaller than <paramref name="Size"/>. The
/// importer belongs to <paramref name="Holder"/>. Reply: <see cref="Imported"/>.
/// </summary>
public sealed record AttachDmaBuf(IActorRef DmaBuf, long Size, DmaDirection Direction, string Device, IActorRef Holder) : IDmaSgRequest;

/// <summary>An importer (ImportedBufferActor), attached and not pinned.</summary>
public sealed record Imported(IActorRef Importer, long Id, long Size, long DmaBufSize) : IDmaSgReply;

/// <summary>Adds a device (any <see cref="IDmaDevice"/>, typically behind a <see cref="DmaApiChecker"/>). Reply: <see cref="DeviceRegistered"/>.</summary>
public sealed record RegisterDevice(IDmaDevice Device) : IDmaSgRequest;

public sealed record DeviceRegistered(string Name) : IDmaSgReply;

/// <summary>Hot-unplug: the device refuses new refs and mappings from now on. Reply: <see cref="DeviceRemoved"/>.</summary>
public sealed record RemoveDevice(string Name) : IDmaSgRequest;

public sealed record DeviceRemoved(DeviceRemovalReport Report) : IDmaSgReply;

/// <summary>Cheap counters of the allocator (no other actor is asked). Reply: <see cref="AllocatorStats"/>.</summary>
public sealed record GetStats : IDmaSgRequest
{
    public static readonly GetStats Instance = new();
}

/// <summary>Pages sent home by a buffer actor; only the allocator frees pages.</summary>
internal sealed record PagesReturned(IActorRef Buffer, int[] Pages) : IDmaSgMessage, Akka.Event.IDeadLetterSuppression;
