namespace DmaSg.Actors.Protocol;

/// <summary>
/// map_dmabuf: maps the attachment in the importer's direction. Pinning twice warns and succeeds
/// (<see cref="Pinned.AlreadyPinned"/>); NotAttached when the attachment is gone. Reply: <see cref="Pinned"/>.
/// </summary>
public sealed record Pin : IDmaSgRequest
{
    public static readonly Pin Instance = new();
}

public sealed record Pinned(SgTableInfo Table, bool AlreadyPinned) : IDmaSgReply;

/// <summary>unmap_dmabuf: NotPinned when not pinned. Reply: <see cref="Done"/>.</summary>
public sealed record Unpin : IDmaSgRequest
{
    public static readonly Unpin Instance = new();
}
