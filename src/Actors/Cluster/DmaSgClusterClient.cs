using Akka.Actor;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Protocol;
using DmaSg.Memory;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Cluster;

/// <summary>
/// Allocates and imports anywhere in the cluster through the same handles as a local <see cref="DmaSgClient"/>.
/// All its refs, on every node, belong to its one holder actor (on this node); buffers stay where they were
/// allocated and are addressed remotely. Bytes cross nodes through the handles' ReadAsync/WriteAsync, in
/// chunks that fit the remote frame, with bounded chunks in flight.
/// </summary>
public sealed class DmaSgClusterClient : IAsyncDisposable
{
    private readonly DmaSgCluster _cluster;
    private int _disposed;

    internal DmaSgClusterClient(DmaSgCluster cluster, IActorRef holder)
    {
        _cluster = cluster;
        Holder = holder;
    }

    /// <summary>The actor that owns this client's refs on every node.</summary>
    public IActorRef Holder { get; }

    /// <summary>The live nodes' published memory (see <see cref="DmaSgCluster.GetNodeStatsAsync"/>).</summary>
    public Task<IReadOnlyList<NodeMemoryStats>> GetNodeStatsAsync() => _cluster.GetNodeStatsAsync();

    /// <summary>
    /// vb2_dma_sg_alloc somewhere in the cluster: on the nodes that <paramref name="placement"/> orders (default:
    /// most free memory first), falling back to the next one on OutOfMemory or when a node is gone. Fails with
    /// OutOfMemory naming every node tried when none could, and InvalidArgument when no node qualifies.
    /// </summary>
    public async Task<BufferHandle> AllocateAsync(long size, DmaDirection direction = DmaDirection.Bidirectional, string device = "default",
        string? name = null, Placement? placement = null)
    {
        placement ??= Placement.MostFreeMemory;
        IReadOnlyList<NodeMemoryStats> nodes = placement.Order(await _cluster.GetNodeStatsAsync().ConfigureAwait(false));
        if (nodes.Count == 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"no live DmaSg node matches placement '{placement}'");
        }

        var refused = new List<string>();
        foreach (NodeMemoryStats node in nodes)
        {
            try
            {
                return await On(node).AllocateAsync(size, direction, device, name).ConfigureAwait(false);
            }
            catch (DmaSgException e) when (e.Error is DmaSgError.OutOfMemory or DmaSgError.UseAfterRelease)
            {
                // OutOfMemory: try the next node. UseAfterRelease: its allocator is gone (the node left).
                refused.Add($"{node.Node} ({e.Detail})");
            }
        }

        throw new DmaSgException(DmaSgError.OutOfMemory, $"no node could allocate {size} bytes: {string.Join("; ", refused)}");
    }

    /// <summary>
    /// vb2_dma_sg_attach_dmabuf for a dmabuf on any node. The importer is made on the dmabuf's own node, where the
    /// memory and the named device are: a device maps memory of its own host. Pin it and read through it from here.
    /// </summary>
    public async Task<ImportHandle> ImportAsync(DmaBufHandle dmabuf, DmaDirection direction, string device = "default", long? size = null)
    {
        ArgumentNullException.ThrowIfNull(dmabuf);
        DmaSgClient owner = await OwnerOf(dmabuf.DmaBuf).ConfigureAwait(false);
        return await owner.ImportAsync(dmabuf, size ?? dmabuf.Size, direction, device).ConfigureAwait(false);
    }

    /// <summary>
    /// dma_buf_get for a dmabuf that another node exported (its actor ref came by message, like an fd passed over
    /// a socket): takes a ref of this client's own on it. Dispose the handle to drop it.
    /// </summary>
    public async Task<DmaBufHandle> GetDmaBufAsync(IActorRef dmabuf)
    {
        ArgumentNullException.ThrowIfNull(dmabuf);
        DmaSgClient owner = await OwnerOf(dmabuf).ConfigureAwait(false);
        await owner.Ask<RefTaken>(dmabuf, new AddRef(Holder)).ConfigureAwait(false);
        try
        {
            DmaBufInfo info = await owner.Ask<DmaBufInfo>(dmabuf, Inspect.Instance).ConfigureAwait(false);
            return new DmaBufHandle(owner, new Exported(dmabuf, info.Id, info.Size));
        }
        catch
        {
            await owner.Release(dmabuf, new Put(Holder)).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Another ref, of this client's own, on a buffer whose actor ref came from another node.</summary>
    public async Task<BufferHandle> GetBufferAsync(IActorRef buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        DmaSgClient owner = await OwnerOf(buffer).ConfigureAwait(false);
        await owner.Ask<RefTaken>(buffer, new AddRef(Holder)).ConfigureAwait(false);
        try
        {
            BufferInfo i = await owner.Ask<BufferInfo>(buffer, Inspect.Instance).ConfigureAwait(false);
            return new BufferHandle(owner, new BufferCreated(buffer, i.Id, i.Name, i.Size, i.NumPages, i.OrigNents, i.Nents, i.IsUserptr, i.Device, i.Direction));
        }
        catch
        {
            await owner.Release(buffer, new Put(Holder)).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A client bound to <paramref name="node"/>'s allocator, sharing this client's holder (its refs are this client's).</summary>
    public DmaSgClient On(NodeMemoryStats node)
    {
        ArgumentNullException.ThrowIfNull(node);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        return new DmaSgClient(_cluster.System, node.Allocator, _cluster.ClientSettings, Holder, ownsHolder: false);
    }

    /// <summary>A client bound to the node named <paramref name="node"/> (host:port or full address); InvalidArgument when it is not live.</summary>
    public async Task<DmaSgClient> OnAsync(string node)
    {
        IReadOnlyList<NodeMemoryStats> nodes = await _cluster.GetNodeStatsAsync().ConfigureAwait(false);
        NodeMemoryStats found = nodes.FirstOrDefault(n => n.Node == node || n.Address == node)
            ?? throw new DmaSgException(DmaSgError.InvalidArgument, $"no live DmaSg node named '{node}' (live: {string.Join(", ", nodes.Select(n => n.Node))})");
        return On(found);
    }

    /// <summary>Stops the holder: every node drops the refs, attachments, importers and mappings it held. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        try
        {
            await Holder.GracefulStop(_cluster.ClientSettings.AskTimeout).ConfigureAwait(false);
        }
        catch (TaskCanceledException)
        {
            // It is stopping anyway; DeathWatch will see it go.
        }
    }

    private async Task<DmaSgClient> OwnerOf(IActorRef actor)
    {
        string address = actor.Path.Address.HasGlobalScope ? actor.Path.Address.ToString() : ((ExtendedActorSystem)_cluster.System).Provider.DefaultAddress.ToString();
        IReadOnlyList<NodeMemoryStats> nodes = await _cluster.GetNodeStatsAsync().ConfigureAwait(false);
        NodeMemoryStats node = nodes.FirstOrDefault(n => n.Address == address)
            ?? throw new DmaSgException(DmaSgError.InvalidArgument, $"{actor.Path} is not on a live DmaSg node");
        return On(node);
    }
}
