using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using DmaSg.Actors.Configuration;
using DmaSg.Actors.Facade;

namespace DmaSg.Actors.Cluster;

/// <summary>
/// DmaSg on Akka.Cluster, as an extension of a cluster ActorSystem. A serving node (<see cref="Serve"/>)
/// publishes its arena's stats to a replicated map; any node, serving or client-only, reads every node's
/// stats (<see cref="GetNodeStatsAsync"/>) and allocates through a <see cref="DmaSgClusterClient"/> on a named
/// node or on the one with the most free memory. Refs taken remotely belong to the client's holder actor, which
/// the owning node watches like a local one: when the client's node leaves or is downed, they are dropped.
/// <para>
/// Why DistributedData (an LWW map) and not DistributedPubSub: the stats are state, not events. A node that
/// joins (the <c>stats</c> verb, a placement client) gets every node's latest entry from its local replica at
/// once, without waiting for each node's next publication; placement reads the local replica without a round
/// trip; and each node writes only its own key, so the last-writer-wins merge never has two writers to choose
/// between. Entries of removed members are deleted, and readers also filter by live membership.
/// </para>
/// </summary>
public sealed class DmaSgCluster : IExtension
{
    private readonly ExtendedActorSystem _system;
    private readonly Akka.Cluster.Cluster _cluster;
    private IActorRef? _publisher;

    public DmaSgCluster(ExtendedActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        _system = system;

        // The library defaults (wire serializer binding, dmasg.cluster, dmasg.transfer) for client-only nodes too.
        system.Settings.InjectTopLevelFallback(DmaSgConfig.Default);
        _cluster = Akka.Cluster.Cluster.Get(system);
        Settings = DmaSgClusterSettings.From(system.Settings.Config);
        ClientSettings = DmaSgConfig.ToSettings(system.Settings.Config);
        StatsKey = new LWWDictionaryKey<string, NodeMemoryStats>(Settings.StatsKey);
    }

    public DmaSgClusterSettings Settings { get; }

    /// <summary>The key of the replicated stats map (address string -> <see cref="NodeMemoryStats"/>).</summary>
    public LWWDictionaryKey<string, NodeMemoryStats> StatsKey { get; }

    /// <summary>True once <see cref="Serve"/> started publishing this node's stats.</summary>
    public bool IsServing => _publisher is not null;

    internal DmaSgSettings ClientSettings { get; }

    internal ActorSystem System => _system;

    public static DmaSgCluster Get(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        return system.WithExtension<DmaSgCluster, DmaSgClusterProvider>();
    }

    /// <summary>
    /// Makes this node serve its arena to the cluster: starts <see cref="BufferManager"/> (the allocator) if it
    /// is not running, and publishes its stats. Idempotent.
    /// </summary>
    public DmaSgCluster Serve()
    {
        if (_publisher is null)
        {
            IActorRef allocator = BufferManager.Get(_system).Allocator;
            IActorRef publisher = _system.SystemActorOf(NodeStatsPublisher.Props(allocator, Settings, StatsKey), "dmasg-stats");
            if (Interlocked.CompareExchange(ref _publisher, publisher, null) is not null)
            {
                _system.Stop(publisher);
            }
        }

        return this;
    }

    /// <summary>
    /// The latest published stats of every live member (Up or WeaklyUp, and reachable from here), from this
    /// node's replica: no round trip. A node that has not published yet is not listed.
    /// </summary>
    public async Task<IReadOnlyList<NodeMemoryStats>> GetNodeStatsAsync(CancellationToken cancellation = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(ClientSettings.AskTimeout);
        LWWDictionary<string, NodeMemoryStats>? map =
            await DistributedData.Get(_system).GetAsync(StatsKey, ReadLocal.Instance, timeout.Token).ConfigureAwait(false);
        if (map is null)
        {
            return [];
        }

        ClusterEvent.CurrentClusterState state = _cluster.State;
        var live = state.Members
            .Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp && !state.Unreachable.Contains(m))
            .Select(m => m.Address.ToString())
            .ToHashSet(StringComparer.Ordinal);
        return map.Entries.Values
            .Where(s => live.Contains(s.Address))
            .OrderBy(s => s.Address, StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>
    /// A client with a holder actor of its own on this node: allocate anywhere in the cluster, import any
    /// node's dmabufs. Disposing it stops the holder, and every node drops the refs it held (DeathWatch).
    /// </summary>
    public DmaSgClusterClient CreateClient() => new(this, _system.ActorOf(HolderActor.Props()));
}

/// <summary>Registers <see cref="DmaSgCluster"/> as an Akka extension.</summary>
public sealed class DmaSgClusterProvider : ExtensionIdProvider<DmaSgCluster>
{
    public override DmaSgCluster CreateExtension(ExtendedActorSystem system) => new(system);
}
