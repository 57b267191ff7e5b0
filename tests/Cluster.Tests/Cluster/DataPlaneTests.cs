using Akka.Actor;
using Akka.TestKit;
using DmaSg.Actors.Cluster;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Protocol;
using DmaSg.Cluster.Tests.Support;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Cluster.Tests.Cluster;

/// <summary>
/// The remote data plane against a stand-in buffer (a probe on B) that answers when the test says: chunks fit
/// the remote frame (128000 bytes here, so 64 KiB), and no more than max-in-flight (4) are ever outstanding.
/// </summary>
public sealed class DataPlaneTests(ITestOutputHelper output) : ClusterTestKit(output)
{
    private const int Chunk = 64 * 1024;
    private const int Window = 4;

    [Fact]
    public async Task A_remote_read_sends_frame_sized_chunks_and_waits_for_replies_beyond_the_window()
    {
        (TestProbe probe, BufferHandle handle) = FakeBuffer(size: 10 * Chunk + 100);
        Task<byte[]> read = handle.ReadAsync(50, 10 * Chunk);

        var outstanding = new Queue<(ReadBytes Request, IActorRef ReplyTo)>();
        int requests = 0;
        for (int i = 0; i < Window; i++)
        {
            outstanding.Enqueue((probe.ExpectMsg<ReadBytes>(Dilated(TimeSpan.FromSeconds(5))), probe.LastSender));
            requests++;
        }

        // The window is full: nothing more until a reply comes back.
        probe.ExpectNoMsg(Dilated(TimeSpan.FromMilliseconds(300)));
        while (outstanding.Count > 0)
        {
            (ReadBytes r, IActorRef replyTo) = outstanding.Dequeue();
            Assert.InRange(r.Count, 1, Chunk);
            replyTo.Tell(new BytesRead(r.Offset, Fill(r.Offset, r.Count)));
            if (requests < 10)
            {
                outstanding.Enqueue((probe.ExpectMsg<ReadBytes>(Dilated(TimeSpan.FromSeconds(5))), probe.LastSender));
                requests++;
            }
        }

        byte[] data = await read;
        Assert.Equal(10, requests);
        Assert.Equal(Fill(50, 10 * Chunk), data);
        probe.ExpectNoMsg(TimeSpan.Zero);
    }

    [Fact]
    public async Task A_remote_write_sends_frame_sized_chunks_within_the_window_and_checks_the_range_first()
    {
        (TestProbe probe, BufferHandle handle) = FakeBuffer(size: 3 * Chunk);
        await Assert.ThrowsAsync<DmaSg.Memory.DmaSgException>(() => handle.WriteAsync(1, new byte[3 * Chunk]));
        probe.ExpectNoMsg(Dilated(TimeSpan.FromMilliseconds(200))); // refused before anything was sent

        byte[] data = Fill(0, 3 * Chunk - 7);
        Task write = handle.WriteAsync(7, data);
        var seen = new byte[3 * Chunk];
        for (int i = 0; i < 3; i++)
        {
            WriteBytes w = probe.ExpectMsg<WriteBytes>(Dilated(TimeSpan.FromSeconds(5)));
            Assert.InRange(w.Data.Length, 1, Chunk);
            w.Data.CopyTo(seen, (int)w.Offset);
            probe.LastSender.Tell(new BytesWritten(w.Offset, w.Data.Length));
        }

        await write;
        Assert.Equal(data, seen[7..]);
    }

    [Fact]
    public async Task Megabytes_cross_nodes_intact_in_both_directions()
    {
        await using DmaSgClusterClient client = DmaSgCluster.Get(A).CreateClient();
        const int size = 3 * (1 << 20) + 4095;
        BufferHandle buffer = await client.AllocateAsync(size, DmaDirection.FromDevice, "camera", "frame", Placement.OnNode(NameOf(C)));
        byte[] frame = RemoteBufferTests.Pattern(size, seed: 11);

        // The camera (a bounce-buffer device on C) writes through its mapping; finish syncs it for the CPU.
        await buffer.DmaWriteAsync(0, frame);
        await buffer.FinishAsync();
        Assert.Equal(frame, await buffer.ReadAsync(0, size));
        Assert.Equal(frame.AsSpan(size - 5000).ToArray(), await buffer.ReadAsync(size - 5000, 5000));
        await buffer.DisposeAsync();
    }

    /// <summary>A BufferHandle of A's whose "buffer" is a probe on B.</summary>
    private (TestProbe Probe, BufferHandle Handle) FakeBuffer(long size)
    {
        TestProbe probe = CreateTestProbe(B);
        IActorRef atA = Pass(probe.Ref, B, A);
        DmaSgCluster cluster = DmaSgCluster.Get(A);
        var client = new DmaSgClient(A, atA, cluster.ClientSettings, A.ActorOf(Props.Empty), ownsHolder: false);
        var created = new BufferCreated(atA, 1, "fake", size, (int)((size + 4095) / 4096), 1, 1, false, "default", DmaDirection.Bidirectional);
        return (probe, new BufferHandle(client, created));
    }

    private static byte[] Fill(long offset, int count)
    {
        var data = new byte[count];
        for (int i = 0; i < count; i++)
        {
            data[i] = (byte)((offset + i) * 31 >> 3);
        }

        return data;
    }
}
