using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Facade;

// Buffer pools and page quotas through the default client, and quotas of any holder.
public sealed partial class BufferManager
{
    /// <inheritdoc cref="DmaSgClient.CreatePoolAsync(long, DmaDirection?, string?, int?, int?, string?)"/>
    public Task<PoolHandle> CreatePoolAsync(long size, DmaDirection? direction = null, string? device = null, int? minBuffers = null,
        int? maxBuffers = null, string? name = null) =>
        Client.CreatePoolAsync(size, direction, device, minBuffers, maxBuffers, name);

    /// <inheritdoc cref="DmaSgClient.CreatePoolAsync(PoolConfig)"/>
    public Task<PoolHandle> CreatePoolAsync(PoolConfig config) => Client.CreatePoolAsync(config);

    /// <summary>
    /// Sets the page quota of <paramref name="holder"/> (a client's <see cref="DmaSgClient.Holder"/>, or any actor
    /// that holds refs): <paramref name="limitPages"/> pages, 0 = unlimited, null = the configured default.
    /// </summary>
    public Task<HolderQuota> SetQuotaAsync(IActorRef holder, long? limitPages) =>
        Client.Ask<HolderQuota>(Allocator, new SetQuota(holder, limitPages));

    /// <summary>The page quota of <paramref name="holder"/> and the pages charged to it.</summary>
    public Task<HolderQuota> GetQuotaAsync(IActorRef holder) => Client.Ask<HolderQuota>(Allocator, new GetQuota(holder));
}
