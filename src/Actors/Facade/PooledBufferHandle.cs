using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Actors.Facade;

/// <summary>
/// A buffer lent by a pool. It is an ordinary buffer (the pool holds its ref); disposing the handle gives it back
/// to the pool, which lends it again without clearing it unless the pool zeroes on recycle. A buffer given back
/// while an export or an mmap of it is still open is not lent again: the pool lets it go, and it is freed when
/// those close.
/// </summary>
public sealed class PooledBufferHandle : Handle
{
    private readonly IActorRef _pool;

    internal PooledBufferHandle(DmaSgClient client, BufferAcquired acquired, IActorRef pool)
        : base(client, acquired.Buffer.Buffer)
    {
        Info = acquired.Buffer;
        Recycled = acquired.Recycled;
        _pool = pool;
    }

    /// <summary>What the allocator said when it made the buffer for the pool.</summary>
    public BufferCreated Info { get; }

    /// <summary>True when the buffer was lent before: it holds the last borrower's bytes unless the pool zeroes on recycle.</summary>
    public bool Recycled { get; }

    public IActorRef Buffer => Target;

    public long Id => Info.Id;

    public long Size => Info.Size;

    public int NumPages => Info.NumPages;

    public DmaDirection Direction => Info.Direction;

    public string Device => Info.Device;

    /// <summary>prepare: sync for the device.</summary>
    public Task PrepareAsync() => Ask<Done>(Prepare.Instance);

    /// <summary>finish: sync for the CPU before reading.</summary>
    public Task FinishAsync() => Ask<Done>(Finish.Instance);

    /// <summary>vaddr: the buffer as one contiguous CPU range (valid while the buffer is lent to you).</summary>
    public async Task<nint> GetVaddrAsync() => (await Ask<Vaddr>(GetVaddr.Instance).ConfigureAwait(false)).Address;

    /// <summary>cookie: the mapped sg table.</summary>
    public async Task<SgTableInfo> CookieAsync() => (await Ask<Cookie>(GetCookie.Instance).ConfigureAwait(false)).Table;

    /// <summary>CPU read of <paramref name="count"/> bytes at <paramref name="offset"/>.</summary>
    public Task<byte[]> ReadAsync(long offset, int count) => ReadChunked(offset, count, (o, n) => new ReadBytes(o, n));

    /// <summary>CPU write of <paramref name="data"/> at <paramref name="offset"/>.</summary>
    public Task WriteAsync(long offset, ReadOnlyMemory<byte> data) => WriteChunked(offset, data, (o, d) => new WriteBytes(o, d));

    /// <summary>The buffer's device reads through its DMA mapping.</summary>
    public Task<byte[]> DmaReadAsync(long offset, int count) => ReadChunked(offset, count, (o, n) => new DmaRead(o, n));

    /// <summary>The buffer's device writes through its DMA mapping (a camera filling a frame).</summary>
    public Task DmaWriteAsync(long offset, ReadOnlyMemory<byte> data) => WriteChunked(offset, data, (o, d) => new DmaWrite(o, d));

    /// <summary>get_dmabuf: the export holds its own buffer ref; close it before giving the buffer back, or the pool lets the buffer go.</summary>
    public async Task<DmaBufHandle> ExportAsync()
    {
        Exported e = await Ask<Exported>(new ExportDmaBuf(Client.Holder)).ConfigureAwait(false);
        return new DmaBufHandle(Client, e);
    }

    /// <summary>
    /// dma_buf_fd (see <see cref="BufferHandle.ExportFdAsync"/>): the fd holds its own buffer ref; close it before
    /// giving the buffer back. A buffer whose own memory went out as an fd (udmabuf, a heap buffer) is never lent
    /// again, since a receiver may still hold that fd: the pool lets it go.
    /// </summary>
    public async Task<FdHandle> ExportFdAsync(DmaDirection? direction = null, string? name = null)
    {
        FdExported e = await Ask<FdExported>(new ExportFd(Client.Holder, direction, name)).ConfigureAwait(false);
        return new FdHandle(Client, e);
    }

    /// <summary>mmap; the mapping holds its own buffer ref (see <see cref="ExportAsync"/>).</summary>
    public async Task<MmapHandle> MmapAsync(long? length = null)
    {
        Mmapped m = await Ask<Mmapped>(new Mmap(length ?? Size, Client.Holder)).ConfigureAwait(false);
        return new MmapHandle(Client, m);
    }

    public Task<BufferInfo> InspectAsync() => Ask<BufferInfo>(Inspect.Instance);

    private protected override IActorRef ReleaseTarget => _pool;

    private protected override IDmaSgRequest ReleaseRequest() => new ReleaseBuffer(Target, Client.Holder);
}
