using DmaSg.Actors.Cluster;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Protocol;
using DmaSg.Cluster.Tests.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Cluster.Tests.Cluster;

/// <summary>
/// An fd belongs to one process: ExportFd crosses the wire, and a buffer on another node refuses it with a typed
/// reply (an fd never travels in a message); on the buffer's own node the same buffer exports one.
/// </summary>
public sealed class RemoteFdExportTests(ITestOutputHelper output) : ClusterTestKit(output)
{
    [Fact]
    public async Task A_holder_on_another_node_gets_InvalidArgument_and_the_buffers_node_gets_the_fd()
    {
        AllocatorStats initialB = await StatsOf(B);
        await using DmaSgClusterClient clientA = DmaSgCluster.Get(A).CreateClient();
        BufferHandle buffer = await clientA.AllocateAsync(2 * Environment.SystemPageSize, DmaDirection.Bidirectional, "default", "fd-remote",
            Placement.OnNode(NameOf(B)));

        var e = await Assert.ThrowsAsync<DmaSgException>(() => buffer.ExportFdAsync());
        Assert.Equal(DmaSgError.InvalidArgument, e.Error);
        Assert.Contains("another node", e.Detail);

        await using (DmaSgClusterClient clientB = DmaSgCluster.Get(B).CreateClient())
        {
            BufferHandle atB = await clientB.GetBufferAsync(Pass(buffer.Buffer, A, B));
            await using (FdHandle fd = await atB.ExportFdAsync())
            {
                Assert.Equal(buffer.Size, fd.Size);
            }

            await atB.DisposeAsync();
        }

        await buffer.DisposeAsync();
        await AwaitAssertAsync(async () =>
        {
            AllocatorStats b = await StatsOf(B);
            Assert.Equal(initialB.FreePages, b.FreePages);
            Assert.Equal(0, b.Actors.Total);
        }, Dilated(TimeSpan.FromSeconds(5)));
    }
}
