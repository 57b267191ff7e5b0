using Akka.Actor;
using DmaSg.Actors.Cluster;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Protocol;
using DmaSg.Cluster.Tests.Support;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Cluster.Tests.Cluster;

/// <summary>Buffers stay on their node; every other node reaches them through the same handles.</summary>
public sealed class RemoteBufferTests(ITestOutputHelper output) : ClusterTestKit(output)
{
    [Fact]
    public async Task Allocate_on_B_from_A_export_on_B_attach_and_map_from_C_write_from_A_read_from_C()
    {
        AllocatorStats initialB = await StatsOf(B);
        await using DmaSgClusterClient clientA = DmaSgCluster.Get(A).CreateClient();
        await using DmaSgClusterClient clientC = DmaSgCluster.Get(C).CreateClient();

        // 1 MiB + a bit: many chunks of the default 128000-byte remote frame, and a partial last page.
        const int size = (1 << 20) + 123;
        BufferHandle buffer = await clientA.AllocateAsync(size, DmaDirection.Bidirectional, "default", "frame", Placement.OnNode(NameOf(B)));
        Assert.Equal(AddressOf(B), buffer.Buffer.Path.Address);

        DmaBufHandle exported = await buffer.ExportAsync();
        Assert.Equal(AddressOf(B), exported.DmaBuf.Path.Address);

        // C receives the dmabuf's actor ref (as a process would receive an fd), takes its own ref, attaches, maps.
        DmaBufHandle atC = await clientC.GetDmaBufAsync(Pass(exported.DmaBuf, A, C));
        AttachmentHandle attachment = await atC.AttachAsync("encoder");
        SgTableInfo mapped = await attachment.MapAsync(DmaDirection.ToDevice);
        Assert.True(mapped.IsMapped);
        Assert.Equal(1, mapped.Nents); // an IOMMU maps the scattered pages as one range

        byte[] pattern = Pattern(size, seed: 7);
        await buffer.WriteAsync(0, pattern);

        // C reads through the CPU (its own buffer ref) and through its importing device on B.
        BufferHandle bufferAtC = await clientC.GetBufferAsync(Pass(buffer.Buffer, A, C));
        Assert.Equal(pattern, await bufferAtC.ReadAsync(0, size));
        ImportHandle importer = await clientC.ImportAsync(atC, DmaDirection.ToDevice, "encoder");
        Assert.Equal(AddressOf(B), importer.Target.Path.Address);
        await importer.PinAsync();
        Assert.Equal(pattern, await importer.DmaReadAsync(0, size));

        // B's view: the refs belong to A's and C's holders, on their nodes.
        DmaSgInspection onB = await InspectOf(B);
        BufferInfo info = Assert.Single(onB.Buffers);
        IActorRef holderA = Pass(clientA.Holder, A, B);
        IActorRef holderC = Pass(clientC.Holder, C, B);
        Assert.Contains(info.Holders, h => h.Holder.Equals(holderA));
        Assert.Contains(info.Holders, h => h.Holder.Equals(holderC));
        Assert.Contains(onB.Attachments, a => a.Holder.Equals(holderC) && a.IsMapped && a.Direction == DmaDirection.ToDevice);

        await importer.DisposeAsync();
        await attachment.DisposeAsync();
        await atC.DisposeAsync();
        await bufferAtC.DisposeAsync();
        await exported.DisposeAsync();
        await buffer.DisposeAsync();
        await AwaitAssertAsync(async () =>
        {
            AllocatorStats b = await StatsOf(B);
            Assert.Equal(initialB.FreePages, b.FreePages);
            Assert.Equal(0, b.Actors.Total);
        }, Dilated(TimeSpan.FromSeconds(5)));
    }

    internal static byte[] Pattern(int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return data;
    }
}
