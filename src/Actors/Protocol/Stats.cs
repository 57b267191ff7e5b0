using Akka.Actor;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Protocol;

/// <summary>Live DmaSg actors by kind (counted in PreStart/PostStop, so exact once they have stopped).</summary>
public sealed record LiveActorCounts(int Buffers, int DmaBufs, int Attachments, int Importers)
{
    public int Total => Buffers + DmaBufs + Attachments + Importers;
}

/// <summary>One registered device.</summary>
public sealed record DeviceStats(string Name, string Model, int RefCount, int LiveMappings, bool IsRemoved, int Violations);

/// <summary>The allocator's counters, read without asking any other actor.</summary>
/// <param name="FreeBlocksPerOrder">Free buddy blocks of each order 0..MaxOrder.</param>
/// <param name="FreePagesPerOrder">Free pages held in blocks of each order (blocks &lt;&lt; order).</param>
/// <param name="LiveBuffers">Buffer actors the allocator tracks.</param>
/// <param name="LiveImporters">Importer actors the allocator tracks.</param>
/// <param name="Actors">Live actors of every kind.</param>
/// <param name="LiveMmaps">User mappings (mmap) not yet unmapped.</param>
/// <param name="DeviceMappings">DMA mappings live on all registered devices (buffers' and attachments').</param>
/// <param name="AttachmentMappings">Attachments currently mapped.</param>
/// <param name="PagesReclaimed">Pages the allocator took back from buffers that stopped without returning them.</param>
public sealed record AllocatorStats(
    long TotalPages,
    long FreePages,
    int PageSize,
    int MaxOrder,
    IReadOnlyList<int> FreeBlocksPerOrder,
    IReadOnlyList<long> FreePagesPerOrder,
    int LiveBuffers,
    int LiveImporters,
    LiveActorCounts Actors,
    int LiveMmaps,
    int DeviceMappings,
    int AttachmentMappings,
    IReadOnlyList<DeviceStats> Devices,
    long Allocations,
    long AllocationFailures,
    long PagesReclaimed,
    long Maps,
    long Unmaps) : IDmaSgReply
{
    public long AllocatedPages => TotalPages - FreePages;

    /// <summary>Holders with pages charged or a quota override, most pages first.</summary>
    public IReadOnlyList<HolderQuota> Quotas { get; init; } = [];

    /// <summary>dmasg.quota.default-pages (0 = unlimited).</summary>
    public long QuotaDefaultPages { get; init; }

    /// <summary>Buffer pools alive (deactivated ones stop once their buffers are back).</summary>
    public int LivePools { get; init; }
}

/// <summary>A user mapping of a buffer and the holder whose ref it is.</summary>
public sealed record MmapInfo(long MappingId, IActorRef Holder, long Length);

/// <summary>
/// A buffer's state. Invariant: <see cref="NumUsers"/> = sum of <see cref="Holders"/> refs (dmabufs hold one
/// each, as holders; an exported fd's ref counts for its holder) + <see cref="Mmaps"/> count.
/// </summary>
public sealed record BufferInfo(
    IActorRef Subject,
    long Id,
    string Name,
    long Size,
    int NumPages,
    bool IsUserptr,
    string Device,
    DmaDirection Direction,
    int NumUsers,
    IReadOnlyList<HolderRefs> Holders,
    IReadOnlyList<MmapInfo> Mmaps,
    bool HasVaddr,
    int OrigNents,
    int Nents,
    IReadOnlyList<DmaBufInfo> DmaBufs) : IInspectReply;

/// <summary>
/// A dmabuf's state. Invariant: <see cref="RefCount"/> = sum of <see cref="Holders"/> refs + <see cref="Attachments"/> count.
/// </summary>
public sealed record DmaBufInfo(
    IActorRef Subject,
    long Id,
    long Size,
    int RefCount,
    IReadOnlyList<HolderRefs> Holders,
    IReadOnlyList<AttachmentInfo> Attachments) : IInspectReply;

/// <summary>An attachment: <see cref="Direction"/> is the cached mapping's, None when not mapped.</summary>
public sealed record AttachmentInfo(
    IActorRef Subject,
    long Id,
    string Device,
    IActorRef Holder,
    DmaDirection Direction,
    bool IsMapped,
    int OrigNents,
    int Nents) : IInspectReply;

/// <summary>The importer's state machine positions.</summary>
public enum ImporterState
{
    Attaching,
    Attached,
    Pinned,
    Detached,
}

/// <summary>An importer (vb2_dma_sg_buf with a db_attach).</summary>
public sealed record ImporterInfo(
    IActorRef Subject,
    long Id,
    string Device,
    IActorRef Holder,
    IActorRef DmaBuf,
    IActorRef? Attachment,
    long Size,
    DmaDirection Direction,
    ImporterState State,
    bool HasVaddr) : IInspectReply;

/// <summary>Everything at once: counters, then every buffer (with its dmabufs and their attachments) and importer.</summary>
public sealed record DmaSgInspection(AllocatorStats Stats, IReadOnlyList<BufferInfo> Buffers, IReadOnlyList<ImporterInfo> Importers) : IDmaSgReply
{
    /// <summary>Every dmabuf of every buffer.</summary>
    public IEnumerable<DmaBufInfo> DmaBufs => Buffers.SelectMany(b => b.DmaBufs);

    /// <summary>Every attachment of every dmabuf.</summary>
    public IEnumerable<AttachmentInfo> Attachments => DmaBufs.SelectMany(d => d.Attachments);

    /// <summary>Every live buffer pool (its buffers are among <see cref="Buffers"/>, held by the pool).</summary>
    public IReadOnlyList<PoolInfo> Pools { get; init; } = [];
}
