using DmaSg.Actors.Protocol;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Facade;

// Buffer pools and page quotas through a client: the pool and the quota belong to this client's holder.
public sealed partial class DmaSgClient
{
    /// <summary>The configured pool defaults (<c>dmasg.pools</c>) with buffers of <paramref name="size"/> bytes.</summary>
    public PoolConfig PoolDefaults(long size) => Settings.Pools with { Size = size };

    /// <summary>
    /// A buffer pool of <paramref name="size"/>-byte buffers; unset arguments come from <c>dmasg.pools</c>. Answers
    /// once <c>min-buffers</c> are allocated; their pages count against this client's quota.
    /// </summary>
    public Task<PoolHandle> CreatePoolAsync(long size, DmaDirection? direction = null, string? device = null, int? minBuffers = null,
        int? maxBuffers = null, string? name = null)
    {
        PoolConfig d = PoolDefaults(size);
        return CreatePoolAsync(d with
        {
            Direction = direction ?? d.Direction,
            Device = device ?? d.Device,
            MinBuffers = minBuffers ?? d.MinBuffers,
            MaxBuffers = maxBuffers ?? d.MaxBuffers,
            Name = name,
        });
    }

    /// <summary>A buffer pool configured in full (start from <see cref="PoolDefaults"/>).</summary>
    public async Task<PoolHandle> CreatePoolAsync(PoolConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        PoolCreated created = await Ask<PoolCreated>(Allocator, new CreatePool(config, Holder)).ConfigureAwait(false);
        return new PoolHandle(this, created);
    }

    /// <summary>This client's page quota: <paramref name="limitPages"/> (0 = unlimited), or null for the configured default.</summary>
    public Task<HolderQuota> SetQuotaAsync(long? limitPages) => Ask<HolderQuota>(Allocator, new SetQuota(Holder, limitPages));

    /// <summary>This client's page quota and the pages charged to it.</summary>
    public Task<HolderQuota> GetQuotaAsync() => Ask<HolderQuota>(Allocator, new GetQuota(Holder));
}
