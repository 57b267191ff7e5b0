using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;

namespace DmaSg.Actors.Cluster;

/// <summary>
/// Publishes this node's memory to the replicated stats map: every stats-interval it asks the local
/// allocator for its counters and, when they changed (or stats-refresh passed), writes its own entry
/// (WriteLocal; gossip spreads it). Each node writes only its own key, so last-writer-wins never has to
/// pick between two writers. When a member is removed it deletes that member's entry, so the map holds
/// the live nodes only.
/// </summary>
internal sealed class NodeStatsPublisher : UntypedActor, IWithTimers
{
    private const string TickTimer = "tick";

    private readonly IActorRef _allocator;
    private readonly DmaSgClusterSettings _settings;
    private readonly LWWDictionaryKey<string, NodeMemoryStats> _key;
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private NodeMemoryStats? _last;
    private DateTime _lastPublished;

    private NodeStatsPublisher(IActorRef allocator, DmaSgClusterSettings settings, LWWDictionaryKey<string, NodeMemoryStats> key)
    {
        _allocator = allocator;
        _settings = settings;
        _key = key;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef allocator, DmaSgClusterSettings settings, LWWDictionaryKey<string, NodeMemoryStats> key) =>
        ActorProps.Of(() => new NodeStatsPublisher(allocator, settings, key));

    /// <summary>A node's short name: host:port of its address.</summary>
    public static string NodeName(Address address) => $"{address.Host}:{address.Port}";

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved));
        Context.Watch(_allocator);
        Timers.StartPeriodicTimer(TickTimer, Tick.Instance, TimeSpan.Zero, _settings.StatsInterval);
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Tick:
                _allocator.Tell(GetStats.Instance);
                break;
            case AllocatorStats s:
                Publish(s);
                break;
            case ClusterEvent.MemberRemoved removed:
                string gone = removed.Member.Address.ToString();
                _replicator.Tell(Dsl.Update(_key, LWWDictionary<string, NodeMemoryStats>.Empty, WriteLocal.Instance,
                    map => map.ContainsKey(gone) ? map.Remove(_cluster.SelfUniqueAddress, gone) : map));
                break;
            case Terminated t when t.ActorRef.Equals(_allocator):
                // No allocator, nothing to serve: stop publishing; survivors drop the entry when this node leaves.
                Context.Stop(Self);
                break;
            case UpdateSuccess or IUpdateFailure or DmaSgFailure:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Publish(AllocatorStats s)
    {
        int largest = -1;
        for (int order = s.FreeBlocksPerOrder.Count - 1; order >= 0; order--)
        {
            if (s.FreeBlocksPerOrder[order] > 0)
            {
                largest = order;
                break;
            }
        }

        DateTime now = DateTime.UtcNow;
        Address self = _cluster.SelfAddress;
        var stats = new NodeMemoryStats(NodeName(self), self.ToString(), _allocator, s.TotalPages, s.FreePages, s.PageSize, largest,
            s.LiveBuffers, new DateTimeOffset(now).ToUnixTimeMilliseconds());
        if (stats.SameMemory(_last) && now - _lastPublished < _settings.StatsRefresh)
        {
            return;
        }

        _last = stats;
        _lastPublished = now;
        string key = stats.Address;
        _replicator.Tell(Dsl.Update(_key, LWWDictionary<string, NodeMemoryStats>.Empty, WriteLocal.Instance,
            map => map.SetItem(_cluster.SelfUniqueAddress, key, stats)));
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
