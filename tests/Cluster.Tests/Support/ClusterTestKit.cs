using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using DmaSg.Actors.Cluster;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Protocol;
using Xunit.Abstractions;

namespace DmaSg.Cluster.Tests.Support;

/// <summary>
/// Three ActorSystems in this process (A is the TestKit's own), each a DmaSg node with its own arena, on
/// 127.0.0.1 with port 0, formed into one cluster before each test and shut down after it. Failure detection
/// and the split brain resolver are tuned short (and scaled by akka.test.timefactor) so node loss is seen in
/// seconds; every wait is an AwaitAssert or an awaited reply.
/// </summary>
public abstract class ClusterTestKit : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    public const string SystemName = "dmasg";

    private readonly List<ActorSystem> _others = [];

    protected ClusterTestKit(ITestOutputHelper output, string? nodeA = null)
        : base(NodeConfig(nodeA), SystemName, output)
    {
    }

    protected ActorSystem A => Sys;

    protected ActorSystem B => _others[0];

    protected ActorSystem C => _others[1];

    protected IReadOnlyList<ActorSystem> Nodes => [A, .. _others];

    /// <summary>Per-node HOCON for B and C (for A pass it to the constructor).</summary>
    protected virtual string? NodeB => null;

    protected virtual string? NodeC => null;

    /// <summary>The configuration of one test node: cluster on loopback, short failure detection, small arena.</summary>
    public static Config NodeConfig(string? extra = null) =>
        ConfigurationFactory.ParseString(extra ?? string.Empty).WithFallback(ConfigurationFactory.ParseString("""
            akka {
              loglevel = WARNING
              actor.provider = cluster
              remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
              coordinated-shutdown.run-by-actor-system-terminate = off
              cluster {
                downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
                split-brain-resolver { active-strategy = keep-majority, stable-after = 2s }
                failure-detector { heartbeat-interval = 500ms, acceptable-heartbeat-pause = 2s }
                gossip-interval = 300ms
                leader-actions-interval = 300ms
                distributed-data.gossip-interval = 300ms
                distributed-data.notify-subscribers-interval = 100ms
              }
            }
            dmasg {
              arena-size = 8 MiB
              devices {
                camera { model = bounce }
                encoder { model = iommu }
              }
              cluster.stats-interval = 200ms
            }
            """));

    public async Task InitializeAsync()
    {
        _others.Add(ActorSystem.Create(SystemName, NodeConfig(NodeB)));
        _others.Add(ActorSystem.Create(SystemName, NodeConfig(NodeC)));
        foreach (ActorSystem node in Nodes)
        {
            DmaSgCluster.Get(node).Serve();
        }

        Address seed = Akka.Cluster.Cluster.Get(A).SelfAddress;
        await Task.WhenAll(Nodes.Select(n => Akka.Cluster.Cluster.Get(n).JoinAsync(seed)));
        await AwaitAllUp(Nodes);
        await AwaitStatsOf(Nodes, Nodes);
    }

    public async Task DisposeAsync()
    {
        await Task.WhenAll(_others.Select(s => s.Terminate()));
    }

    /// <summary>Waits until every system in <paramref name="nodes"/> sees all of them Up.</summary>
    protected Task AwaitAllUp(IReadOnlyList<ActorSystem> nodes) => AwaitAssertAsync(() =>
    {
        foreach (ActorSystem node in nodes)
        {
            var state = Akka.Cluster.Cluster.Get(node).State;
            Assert.Equal(nodes.Count, state.Members.Count(m => m.Status == MemberStatus.Up));
        }
    }, Dilated(TimeSpan.FromSeconds(20)), TimeSpan.FromMilliseconds(100));

    /// <summary>Waits until each reader's replica holds the published stats of every node in <paramref name="published"/>.</summary>
    protected Task AwaitStatsOf(IReadOnlyList<ActorSystem> published, IReadOnlyList<ActorSystem> readers) => AwaitAssertAsync(async () =>
    {
        foreach (ActorSystem reader in readers)
        {
            IReadOnlyList<NodeMemoryStats> stats = await DmaSgCluster.Get(reader).GetNodeStatsAsync();
            foreach (ActorSystem node in published)
            {
                Assert.Contains(stats, s => s.Address == AddressOf(node).ToString());
            }
        }
    }, Dilated(TimeSpan.FromSeconds(20)), TimeSpan.FromMilliseconds(100));

    /// <summary>
    /// <paramref name="actor"/> (a ref of <paramref name="from"/>) as <paramref name="to"/> sees it, as if it had come
    /// in a message: refs are per ActorSystem, and these three share a process.
    /// </summary>
    protected static IActorRef Pass(IActorRef actor, ActorSystem from, ActorSystem to)
    {
        string path = actor.Path.Address.HasGlobalScope
            ? actor.Path.ToSerializationFormat()
            : actor.Path.ToSerializationFormatWithAddress(AddressOf(from));
        return ((ExtendedActorSystem)to).Provider.ResolveActorRef(path);
    }

    /// <summary>The node a buffer lives on, as seen from <paramref name="viewer"/> (a local ref has no host in its path).</summary>
    protected static Address NodeOf(BufferHandle buffer, ActorSystem viewer) =>
        buffer.Buffer.Path.Address.HasGlobalScope ? buffer.Buffer.Path.Address : AddressOf(viewer);

    protected static Address AddressOf(ActorSystem node) => Akka.Cluster.Cluster.Get(node).SelfAddress;

    protected static string NameOf(ActorSystem node) => $"{AddressOf(node).Host}:{AddressOf(node).Port}";

    /// <summary>The node's allocator counters, asked directly (not the replicated, slightly older stats).</summary>
    protected static Task<AllocatorStats> StatsOf(ActorSystem node) => BufferManager.Get(node).GetStatsAsync();

    protected static Task<DmaSgInspection> InspectOf(ActorSystem node) => BufferManager.Get(node).InspectAsync();
}
