using System.Collections.Immutable;
using DmaSg.Actors;
using DmaSg.Memory.Dma;

namespace DmaSg.Properties.Tests.Model;

// The model's objects. Each is named by a tag: the number the generator gave the operation that created it,
// so a reference survives shrinking (removing an earlier operation does not renumber later objects).

/// <summary>A client actor that owns refs; DeathWatch drops them when it dies.</summary>
public sealed record HolderM(int Tag, bool Alive);

/// <summary>
/// A vb2_dma_sg_buf. <see cref="Refs"/> are plain refs per holder tag, and one per exported dmabuf (the dmabuf is the
/// holder of its own ref, keyed by its tag) until the buffer has processed that dmabuf's death.
/// </summary>
public sealed record BufM(
    int Tag,
    int Pages,
    long Size,
    DmaDirection Dir,
    string Dev,
    bool Userptr,
    bool ReadOnly,
    bool Released,
    ImmutableSortedDictionary<int, int> Refs,
    bool HasVaddr);

/// <summary>A user mapping (mmap) of a buffer: one buffer ref owned by <see cref="Holder"/>.</summary>
public sealed record MmapM(int Tag, int Buf, int Holder, long Length, bool Live);

/// <summary>
/// An exported dmabuf. Its refcount is the holders' refs plus one per attachment it has not yet seen die
/// (<see cref="Atts"/>).
/// </summary>
public sealed record DBufM(int Tag, int Buf, long Size, bool Released, ImmutableSortedDictionary<int, int> Refs, ImmutableSortedSet<int> Atts);

/// <summary>
/// A dma_buf_attachment. <see cref="Holder"/> is a holder tag, or an importer tag when <see cref="ByImporter"/>.
/// <see cref="Dir"/> is the cached mapping's direction, None when unmapped.
/// </summary>
public sealed record AttM(int Tag, int DBuf, string Dev, int Holder, bool ByImporter, DmaDirection Dir, bool Alive);

/// <summary>Where an importer is. Stopped: its actor is gone (detached, or its holder died).</summary>
public enum ImpState
{
    Attached,
    Pinned,
    Detached,
    Stopped,
}

/// <summary>An importer (ImportedBufferActor) and the attachment it made, tagged <see cref="Att"/>.</summary>
public sealed record ImpM(int Tag, int DBuf, string Dev, long Size, DmaDirection Dir, int Holder, ImpState State, int Att, bool HasVaddr)
{
    public bool IsAttached => State is ImpState.Attached or ImpState.Pinned;
}

/// <summary>A device: whether its next map is armed to fail, the DMA-API reports it should have made, whether it was unplugged.</summary>
public sealed record DevM(string Name, DeviceModel Model, bool MapFault, int Violations, bool Removed = false);
