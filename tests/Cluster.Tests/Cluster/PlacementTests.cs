using DmaSg.Actors.Cluster;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Protocol;
using DmaSg.Cluster.Tests.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Cluster.Tests.Cluster;

/// <summary>Placement by published stats: arenas of 8 MiB (A), 16 MiB (B) and 12 MiB (C).</summary>
public sealed class PlacementTests(ITestOutputHelper output) : ClusterTestKit(output)
{
    private const int MiB = 1 << 20;

    protected override string? NodeB => "dmasg.arena-size = 16 MiB";

    protected override string? NodeC => "dmasg.arena-size = 12 MiB";

    [Fact]
    public async Task Most_free_memory_follows_the_published_stats_and_a_named_node_is_honoured()
    {
        await using DmaSgClusterClient client = DmaSgCluster.Get(A).CreateClient();
        IReadOnlyList<NodeMemoryStats> stats = await client.GetNodeStatsAsync();
        Assert.Equal(3, stats.Count);
        Assert.Equal(16L * MiB, stats.Single(s => s.Node == NameOf(B)).FreeBytes);

        BufferHandle first = await client.AllocateAsync(MiB);
        Assert.Equal(AddressOf(B), first.Buffer.Path.Address);

        // Fill B down to 4 MiB free; once that is published, C (12 MiB) has the most.
        BufferHandle big = await client.AllocateAsync(11 * MiB, placement: Placement.OnNode(NameOf(B)));
        await AwaitAssertAsync(async () =>
            Assert.Equal(4L * MiB, (await client.GetNodeStatsAsync()).Single(s => s.Node == NameOf(B)).FreeBytes),
            Dilated(TimeSpan.FromSeconds(10)), TimeSpan.FromMilliseconds(100));
        BufferHandle second = await client.AllocateAsync(MiB);
        Assert.Equal(AddressOf(C), second.Buffer.Path.Address);

        // A named node gets the buffer even when it is not the emptiest, by host:port or by full address.
        BufferHandle onA = await client.AllocateAsync(MiB, placement: Placement.OnNode(NameOf(A)));
        Assert.Equal(AddressOf(A), NodeOf(onA, A));
        Assert.Equal(1, (await StatsOf(A)).LiveBuffers);
        BufferHandle onC = await client.AllocateAsync(MiB, placement: Placement.OnNode(AddressOf(C).ToString()));
        Assert.Equal(AddressOf(C), onC.Buffer.Path.Address);

        var unknown = await Assert.ThrowsAsync<DmaSgException>(() => client.AllocateAsync(MiB, placement: Placement.OnNode("127.0.0.1:1")));
        Assert.Equal(DmaSgError.InvalidArgument, unknown.Error);
    }
}

/// <summary>Fallback on OutOfMemory, with stats published once and never refreshed (stale on purpose).</summary>
public sealed class PlacementFallbackTests(ITestOutputHelper output) : ClusterTestKit(output, Stale)
{
    private const int MiB = 1 << 20;
    private const string Stale = "dmasg.cluster { stats-interval = 1h, stats-refresh = 1h }";

    protected override string? NodeB => "dmasg.arena-size = 16 MiB\n" + Stale;

    protected override string? NodeC => "dmasg.arena-size = 12 MiB\n" + Stale;

    [Fact]
    public async Task Placement_falls_back_to_the_next_node_on_OutOfMemory_and_changes_nothing_where_it_failed()
    {
        await using DmaSgClusterClient client = DmaSgCluster.Get(A).CreateClient();

        // The stats still say B 16 MiB, C 12 MiB, A 8 MiB whatever happens: the order is B, C, A every time.
        BufferHandle first = await client.AllocateAsync(10 * MiB);
        Assert.Equal(AddressOf(B), first.Buffer.Path.Address);
        AllocatorStats bBefore = await StatsOf(B);

        BufferHandle second = await client.AllocateAsync(10 * MiB);
        Assert.Equal(AddressOf(C), second.Buffer.Path.Address);
        AllocatorStats bAfter = await StatsOf(B);
        Assert.Equal(bBefore.FreePages, bAfter.FreePages); // the refused attempt took nothing
        Assert.Equal(bBefore.AllocationFailures + 1, bAfter.AllocationFailures);

        BufferHandle third = await client.AllocateAsync(7 * MiB);
        Assert.Equal(AddressOf(A), NodeOf(third, A));

        // Nobody has 8 MiB left: the error names every node tried and why.
        var none = await Assert.ThrowsAsync<DmaSgException>(() => client.AllocateAsync(8 * MiB));
        Assert.Equal(DmaSgError.OutOfMemory, none.Error);
        foreach (string node in new[] { NameOf(A), NameOf(B), NameOf(C) })
        {
            Assert.Contains(node, none.Message, StringComparison.Ordinal);
        }

        // A named node does not fall back; a preferred one does.
        Assert.Equal(DmaSgError.OutOfMemory,
            (await Assert.ThrowsAsync<DmaSgException>(() => client.AllocateAsync(7 * MiB, placement: Placement.OnNode(NameOf(B))))).Error);
        BufferHandle preferred = await client.AllocateAsync(MiB, placement: Placement.PreferNode(NameOf(A)));
        Assert.Equal(AddressOf(A), NodeOf(preferred, A));
        BufferHandle moved = await client.AllocateAsync(5 * MiB, placement: Placement.PreferNode(NameOf(C)));
        Assert.Equal(AddressOf(B), NodeOf(moved, A));
    }
}
