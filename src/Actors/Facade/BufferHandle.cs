using DmaSg.Actors.Protocol;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Actors.Facade;

/// <summary>One ref on a buffer (vb2_dma_sg_buf). Dispose drops it (put, or put_userptr for USERPTR).</summary>
public sealed class BufferHandle : Handle
{
    internal BufferHandle(DmaSgClient client, BufferCreated created)
        : base(client, created.Buffer)
    {
        Info = created;
    }

    /// <summary>What the allocator said when it made the buffer.</summary>
    public BufferCreated Info { get; }

    public Akka.Actor.IActorRef Buffer => Target;

    public long Id => Info.Id;

    public long Size => Info.Size;

    public int NumPages => Info.NumPages;

    public DmaDirection Direction => Info.Direction;

    public string Device => Info.Device;

    public bool IsUserptr => Info.IsUserptr;

    /// <summary>prepare: sync for the device (the bounce copy CPU to device).</summary>
    public Task PrepareAsync() => Ask<Done>(Prepare.Instance);

    /// <summary>finish: sync for the CPU (the bounce copy device to CPU) before reading.</summary>
    public Task FinishAsync() => Ask<Done>(Finish.Instance);

    /// <summary>vaddr: the buffer as one contiguous CPU range (valid while the buffer lives).</summary>
    public async Task<nint> GetVaddrAsync() => (await Ask<Vaddr>(GetVaddr.Instance).ConfigureAwait(false)).Address;

    /// <summary>kmap of page <paramref name="pageNumber"/> (Fault outside the buffer).</summary>
    public async Task<nint> KmapAsync(int pageNumber) => (await Ask<Kmapped>(new Kmap(pageNumber)).ConfigureAwait(false)).Address;

    /// <summary>num_users: the buffer's refcount over all holders.</summary>
    public async Task<int> NumUsersAsync() => (await Ask<NumUsers>(GetNumUsers.Instance).ConfigureAwait(false)).Count;

    /// <summary>cookie: the mapped sg table.</summary>
    public async Task<SgTableInfo> CookieAsync() => (await Ask<Cookie>(GetCookie.Instance).ConfigureAwait(false)).Table;

    /// <summary>mmap of the first <paramref name="length"/> bytes (default: all); the mapping holds its own ref.</summary>
    public async Task<MmapHandle> MmapAsync(long? length = null)
    {
        Mmapped m = await Ask<Mmapped>(new Mmap(length ?? Size, Client.Holder)).ConfigureAwait(false);
        return new MmapHandle(Client, m);
    }

    /// <summary>get_dmabuf: exports the buffer; the dmabuf keeps a buffer ref until its last ref goes.</summary>
    public async Task<DmaBufHandle> ExportAsync()
    {
        Exported e = await Ask<Exported>(new ExportDmaBuf(Client.Holder)).ConfigureAwait(false);
        return new DmaBufHandle(Client, e);
    }

    /// <summary>
    /// dma_buf_fd: the buffer as a file descriptor for another process or a driver: a real dmabuf where the
    /// kernel allows it, a sealed memfd otherwise (dmasg.export.providers). The handle holds a buffer ref and
    /// the fd until disposed. <paramref name="direction"/> is how the fd's user uses it (default: the buffer's).
    /// </summary>
    public async Task<FdHandle> ExportFdAsync(DmaDirection? direction = null, string? name = null)
    {
        FdExported e = await Ask<FdExported>(new ExportFd(Client.Holder, direction, name)).ConfigureAwait(false);
        return new FdHandle(Client, e);
    }

    /// <summary>Another handle with a ref of its own on the same buffer.</summary>
    public async Task<BufferHandle> AddRefAsync()
    {
        await Ask<RefTaken>(new AddRef(Client.Holder)).ConfigureAwait(false);
        return new BufferHandle(Client, Info);
    }

    /// <summary>CPU read of <paramref name="count"/> bytes at <paramref name="offset"/> (Fault outside the buffer).</summary>
    public Task<byte[]> ReadAsync(long offset, int count) => ReadChunked(offset, count, (o, n) => new ReadBytes(o, n));

    /// <summary>CPU write of <paramref name="data"/> at <paramref name="offset"/>.</summary>
    public Task WriteAsync(long offset, ReadOnlyMemory<byte> data) => WriteChunked(offset, data, (o, d) => new WriteBytes(o, d));

    /// <summary>The buffer's device reads <paramref name="count"/> bytes at <paramref name="offset"/> through its DMA mapping.</summary>
    public Task<byte[]> DmaReadAsync(long offset, int count) => ReadChunked(offset, count, (o, n) => new DmaRead(o, n));

    /// <summary>The buffer's device writes <paramref name="data"/> at <paramref name="offset"/> through its DMA mapping (a camera).</summary>
    public Task DmaWriteAsync(long offset, ReadOnlyMemory<byte> data) => WriteChunked(offset, data, (o, d) => new DmaWrite(o, d));

    public Task<BufferInfo> InspectAsync() => Ask<BufferInfo>(Inspect.Instance);

    /// <summary>
    /// put_userptr: drops this handle's ref on a USERPTR buffer and returns the pages marked dirty when that
    /// freed it. The handle is disposed afterwards.
    /// </summary>
    public async Task<IReadOnlyList<nint>> PutUserptrAsync()
    {
        ThrowIfDisposed();
        UserptrReleased r = await Client.Ask<UserptrReleased>(Target, new PutUserptr(Client.Holder)).ConfigureAwait(false);
        MarkDisposed();
        return r.DirtyPages;
    }

    private protected override IDmaSgRequest ReleaseRequest() =>
        IsUserptr ? new PutUserptr(Client.Holder) : new Put(Client.Holder);
}

/// <summary>One ref on an exported dmabuf. Dispose drops it (dma_buf_put).</summary>
public sealed class DmaBufHandle : Handle
{
    internal DmaBufHandle(DmaSgClient client, Exported exported)
        : base(client, exported.DmaBuf)
    {
        Id = exported.Id;
        Size = exported.Size;
    }

    public Akka.Actor.IActorRef DmaBuf => Target;

    public long Id { get; }

    public long Size { get; }

    /// <summary>dma_buf_attach for <paramref name="device"/>: an attachment with its own sg copy; map it with <see cref="AttachmentHandle.MapAsync"/>.</summary>
    public async Task<AttachmentHandle> AttachAsync(string device = "default", long minSize = 0)
    {
        AttachmentCreated a = await Ask<AttachmentCreated>(new Attach(device, minSize, Client.Holder)).ConfigureAwait(false);
        return new AttachmentHandle(Client, a, device);
    }

    /// <summary>vb2's attach_dmabuf through this client: an importer to pin and unpin.</summary>
    public Task<ImportHandle> ImportAsync(DmaDirection direction, string device = "default", long? size = null)
    {
        ThrowIfDisposed();
        return Client.ImportAsync(this, size ?? Size, direction, device);
    }

    /// <summary>vmap: the exporter's contiguous CPU view.</summary>
    public async Task<nint> VmapAsync() => (await Ask<Vaddr>(GetVaddr.Instance).ConfigureAwait(false)).Address;

    public async Task<nint> KmapAsync(int pageNumber) => (await Ask<Kmapped>(new Kmap(pageNumber)).ConfigureAwait(false)).Address;

    /// <summary>dma_buf_mmap: a user mapping holding a ref on the buffer behind the dmabuf.</summary>
    public async Task<MmapHandle> MmapAsync(long? length = null)
    {
        Mmapped m = await Ask<Mmapped>(new Mmap(length ?? Size, Client.Holder)).ConfigureAwait(false);
        return new MmapHandle(Client, m);
    }

    /// <summary>
    /// dma_buf_fd: this dmabuf as a file descriptor (see <see cref="BufferHandle.ExportFdAsync"/>); the fd's ref
    /// is on the buffer behind the dmabuf, so it outlives this handle until disposed.
    /// </summary>
    public async Task<FdHandle> ExportFdAsync(DmaDirection? direction = null, string? name = null)
    {
        FdExported e = await Ask<FdExported>(new ExportFd(Client.Holder, direction, name)).ConfigureAwait(false);
        return new FdHandle(Client, e);
    }

    /// <summary>get_dma_buf: another handle with a ref of its own.</summary>
    public async Task<DmaBufHandle> DupAsync()
    {
        await Ask<RefTaken>(new AddRef(Client.Holder)).ConfigureAwait(false);
        return new DmaBufHandle(Client, new Exported(DmaBuf, Id, Size));
    }

    public Task<DmaBufInfo> InspectAsync() => Ask<DmaBufInfo>(Inspect.Instance);

    private protected override IDmaSgRequest ReleaseRequest() => new Put(Client.Holder);
}

/// <summary>A dma_buf_attachment. Dispose detaches (unmapping first if mapped).</summary>
public sealed class AttachmentHandle : Handle
{
    internal AttachmentHandle(DmaSgClient client, AttachmentCreated created, string device)
        : base(client, created.Attachment)
    {
        Id = created.Id;
        Device = device;
    }

    public long Id { get; }

    public string Device { get; }

    /// <summary>dma_buf_map_attachment: the (cached) mapping for <paramref name="direction"/>; Io when the device refuses.</summary>
    public async Task<SgTableInfo> MapAsync(DmaDirection direction) =>
        (await Ask<AttachmentMapped>(new MapAttachment(direction)).ConfigureAwait(false)).Table;

    /// <summary>dma_buf_unmap_attachment: the mapping stays cached until the direction changes or detach.</summary>
    public Task UnmapAsync(DmaDirection direction) => Ask<Done>(new UnmapAttachment(direction));

    /// <summary>The attachment's cached direction and mapping state.</summary>
    public Task<AttachmentInfo> InspectAsync() => Ask<AttachmentInfo>(Inspect.Instance);

    private protected override IDmaSgRequest ReleaseRequest() => Detach.Instance;
}

/// <summary>An importer of a dmabuf (vb2_dma_sg_buf with a db_attach). Dispose detaches (unpinning first).</summary>
public sealed class ImportHandle : Handle
{
    internal ImportHandle(DmaSgClient client, Imported imported, DmaDirection direction, string device)
        : base(client, imported.Importer)
    {
        Id = imported.Id;
        Size = imported.Size;
        Direction = direction;
        Device = device;
    }

    public long Id { get; }

    public long Size { get; }

    public DmaDirection Direction { get; }

    public string Device { get; }

    /// <summary>map_dmabuf: maps the attachment; pinning twice warns and succeeds.</summary>
    public async Task<SgTableInfo> PinAsync() => (await Ask<Pinned>(Pin.Instance).ConfigureAwait(false)).Table;

    /// <summary>unmap_dmabuf: NotPinned when not pinned.</summary>
    public Task UnpinAsync() => Ask<Done>(Unpin.Instance);

    /// <summary>A no-op: the exporter syncs a dmabuf.</summary>
    public Task PrepareAsync() => Ask<Done>(Prepare.Instance);

    /// <summary>A no-op: the exporter syncs a dmabuf.</summary>
    public Task FinishAsync() => Ask<Done>(Finish.Instance);

    /// <summary>vaddr through the dmabuf's vmap.</summary>
    public async Task<nint> GetVaddrAsync() => (await Ask<Vaddr>(GetVaddr.Instance).ConfigureAwait(false)).Address;

    /// <summary>cookie: the pinned sg table (NotPinned otherwise).</summary>
    public async Task<SgTableInfo> CookieAsync() => (await Ask<Cookie>(GetCookie.Instance).ConfigureAwait(false)).Table;

    /// <summary>The importing device reads through its pinned mapping (an encoder consuming a frame).</summary>
    public Task<byte[]> DmaReadAsync(long offset, int count) => ReadChunked(offset, count, (o, n) => new DmaRead(o, n));

    /// <summary>The importing device writes through its pinned mapping.</summary>
    public Task DmaWriteAsync(long offset, ReadOnlyMemory<byte> data) => WriteChunked(offset, data, (o, d) => new DmaWrite(o, d));

    public Task<ImporterInfo> InspectAsync() => Ask<ImporterInfo>(Inspect.Instance);

    private protected override IDmaSgRequest ReleaseRequest() => Detach.Instance;
}

/// <summary>A user mapping (mmap) of a buffer; it holds a buffer ref. Dispose unmaps and drops the ref.</summary>
public sealed class MmapHandle : Handle
{
    internal MmapHandle(DmaSgClient client, Mmapped mapped)
        : base(client, mapped.Buffer)
    {
        MappingId = mapped.MappingId;
        Address = mapped.Address;
        Length = mapped.Length;
        MappedLength = mapped.MappedLength;
    }

    public long MappingId { get; }

    /// <summary>First byte of the mapping; valid until the handle is disposed.</summary>
    public nint Address { get; }

    public long Length { get; }

    /// <summary>Whole pages mapped.</summary>
    public long MappedLength { get; }

    /// <summary>The mapped bytes (below 2 GiB). Do not keep the span past <see cref="Handle.DisposeAsync"/>.</summary>
    public unsafe Span<byte> AsSpan()
    {
        ThrowIfDisposed();
        if (Cluster.TransferLimits.IsRemote(Target))
        {
            // The address is in the buffer's node's process: here it points at nothing of ours.
            throw new DmaSgException(DmaSgError.InvalidArgument,
                $"mapping {MappingId} lives on {Target.Path.Address}; use the buffer's ReadAsync/WriteAsync from another node");
        }

        return new Span<byte>((void*)Address, checked((int)Length));
    }

    private protected override IDmaSgRequest ReleaseRequest() => new Munmap(MappingId, Client.Holder);
}
