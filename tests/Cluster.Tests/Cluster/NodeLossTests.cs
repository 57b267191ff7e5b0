using Akka.Actor;
using Akka.Cluster;
using Akka.Remote;
using Akka.Remote.Transport;
using DmaSg.Actors.Cluster;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Protocol;
using DmaSg.Cluster.Tests.Support;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Cluster.Tests.Cluster;

/// <summary>A node that dies leaks nothing on the survivors: its holders' refs go, buffers only it held are freed.</summary>
public sealed class NodeLossTests(ITestOutputHelper output) : ClusterTestKit(output, Throttled)
{
    // The throttler adapter lets the test cut C off (blackhole) so it cannot say goodbye: a real crash.
    private const string Throttled = "akka.remote.dot-netty.tcp.applied-adapters = [trttl]";

    protected override string? NodeB => Throttled;

    protected override string? NodeC => Throttled;

    [Fact]
    public async Task Killing_C_drops_every_ref_it_held_on_B_and_frees_the_buffers_only_it_held()
    {
        AllocatorStats initialB = await StatsOf(B);
        DmaSgClusterClient clientA = DmaSgCluster.Get(A).CreateClient();
        DmaSgClusterClient clientC = DmaSgCluster.Get(C).CreateClient();
        Placement onB = Placement.OnNode(NameOf(B));

        // Shared: A's buffer on B, which C also holds a ref on, has exported and attached to.
        BufferHandle shared = await clientA.AllocateAsync(300_000, DmaDirection.Bidirectional, "default", "shared", onB);
        BufferHandle sharedAtC = await clientC.GetBufferAsync(Pass(shared.Buffer, A, C));
        DmaBufHandle sharedDmaBuf = await sharedAtC.ExportAsync();
        AttachmentHandle attachment = await sharedDmaBuf.AttachAsync("encoder");
        await attachment.MapAsync(DmaDirection.ToDevice);

        // Only C's: a buffer, exported, imported and pinned by a device on B, and mmapped on B.
        BufferHandle onlyC = await clientC.AllocateAsync(1 << 20, DmaDirection.FromDevice, "camera", "only-c", onB);
        DmaBufHandle onlyCDmaBuf = await onlyC.ExportAsync();
        ImportHandle importer = await clientC.ImportAsync(onlyCDmaBuf, DmaDirection.ToDevice, "encoder");
        await importer.PinAsync();
        await onlyC.MmapAsync();

        AllocatorStats loaded = await StatsOf(B);
        Assert.Equal(2, loaded.LiveBuffers);
        Assert.Equal(1, loaded.LiveImporters);
        Assert.Equal(1, loaded.LiveMmaps);

        // C crashes: nothing it sends reaches A or B from now on, then its process is gone.
        RemoteTransport transport = ((RemoteActorRefProvider)((ExtendedActorSystem)C).Provider).Transport;
        foreach (ActorSystem survivor in new[] { A, B })
        {
            await transport.ManagementCommand(new SetThrottle(AddressOf(survivor), ThrottleTransportAdapter.Direction.Both, Blackhole.Instance));
        }

        await C.Terminate();

        // C said no goodbye: until the cluster removes it, B still holds everything in its name.
        Assert.Equal(2, (await StatsOf(B)).LiveBuffers);

        // The split brain resolver (keep-majority: A and B are 2 of 3) downs C; its removal terminates its actors' refs.
        await AwaitAssertAsync(() =>
        {
            foreach (ActorSystem survivor in new[] { A, B })
            {
                Assert.DoesNotContain(Akka.Cluster.Cluster.Get(survivor).State.Members, m => m.Address == AddressOf(C));
            }
        }, Dilated(TimeSpan.FromSeconds(30)), TimeSpan.FromMilliseconds(200));

        long sharedPages = initialB.FreePages - (await StatsOf(B)).FreePages;
        await AwaitAssertAsync(async () =>
        {
            DmaSgInspection b = await InspectOf(B);
            BufferInfo left = Assert.Single(b.Buffers);
            Assert.Equal("shared", left.Name);
            Assert.Equal(1, left.NumUsers); // A's ref only
            Assert.Empty(left.DmaBufs);
            Assert.Empty(left.Mmaps);
            Assert.Empty(b.Importers);
            Assert.Equal(0, b.Stats.AttachmentMappings);
            Assert.Equal(0, b.Stats.LiveMmaps);
            Assert.Equal(1, b.Stats.Actors.Total);
            Assert.Equal(initialB.FreePages - left.NumPages, b.Stats.FreePages);
        }, Dilated(TimeSpan.FromSeconds(10)), TimeSpan.FromMilliseconds(100));
        Assert.True(sharedPages > 0);

        // A's buffer still works, and once A lets go, B's arena is back to its initial free pages.
        await shared.WriteAsync(0, new byte[] { 1, 2, 3 });
        Assert.Equal(new byte[] { 1, 2, 3 }, await shared.ReadAsync(0, 3));
        await shared.DisposeAsync();
        await AwaitAssertAsync(async () =>
        {
            AllocatorStats b = await StatsOf(B);
            Assert.Equal(initialB.FreePages, b.FreePages);
            Assert.Equal(0, b.Actors.Total);
            Assert.Equal(0, b.DeviceMappings);
        }, Dilated(TimeSpan.FromSeconds(5)));
        await clientA.DisposeAsync();
    }
}
