using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Serialization;
using DmaSg.Actors.Cluster;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Serialization;
using DmaSg.Actors.Support;
using DmaSg.Cluster.Tests.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Cluster.Tests.Cluster;

/// <summary>Bad input from another node gets a typed error or is dropped at the transport; no node's state changes.</summary>
public sealed class BadRemoteInputTests(ITestOutputHelper output) : ClusterTestKit(output)
{
    private const int Size = 256 * 1024;

    [Fact]
    public async Task Out_of_range_and_oversized_remote_reads_and_writes_get_typed_errors_and_change_nothing()
    {
        await using DmaSgClusterClient client = DmaSgCluster.Get(A).CreateClient();
        BufferHandle buffer = await client.AllocateAsync(Size, DmaDirection.Bidirectional, "default", "target", Placement.OnNode(NameOf(B)));
        byte[] content = RemoteBufferTests.Pattern(Size, seed: 3);
        await buffer.WriteAsync(0, content);
        AllocatorStats[] before = await Task.WhenAll(Nodes.Select(StatsOf));

        // Through the facade: the whole range is checked before any chunk leaves.
        Assert.Equal(DmaSgError.Fault, (await Assert.ThrowsAsync<DmaSgException>(() => buffer.ReadAsync(Size - 10, 100))).Error);
        Assert.Equal(DmaSgError.Fault, (await Assert.ThrowsAsync<DmaSgException>(() => buffer.WriteAsync(Size - 2, new byte[10]))).Error);
        Assert.Equal(DmaSgError.Fault, (await Assert.ThrowsAsync<DmaSgException>(() => buffer.WriteAsync(-1, new byte[1]))).Error);
        Assert.Equal(DmaSgError.InvalidArgument, (await Assert.ThrowsAsync<DmaSgException>(() => buffer.ReadAsync(0, -5))).Error);

        // Raw protocol messages straight to the remote actor: its own checks answer them.
        TimeSpan timeout = Dilated(TimeSpan.FromSeconds(5));
        Assert.Equal(DmaSgError.Fault, Failure(await DmaSgAsk.Request(A, buffer.Buffer, new WriteBytes(Size - 2, new byte[10]), timeout)));
        Assert.Equal(DmaSgError.Fault, Failure(await DmaSgAsk.Request(A, buffer.Buffer, new ReadBytes(-1, 10), timeout)));
        Assert.Equal(DmaSgError.Fault, Failure(await DmaSgAsk.Request(A, buffer.Buffer, new ReadBytes(long.MaxValue, 1), timeout)));
        Assert.Equal(DmaSgError.InvalidArgument, Failure(await DmaSgAsk.Request(A, buffer.Buffer, new ReadBytes(0, -1), timeout)));

        // A reply bigger than the remote frame would be dropped unseen: the buffer refuses to build it.
        DmaSgFailure overFrame = Assert.IsType<DmaSgFailure>(await DmaSgAsk.Request(A, buffer.Buffer, new ReadBytes(0, 200_000), timeout));
        Assert.Equal(DmaSgError.InvalidArgument, overFrame.Error);
        Assert.Contains("remote chunk limit (65536)", overFrame.Message, StringComparison.Ordinal);

        Assert.Equal(content, await buffer.ReadAsync(0, Size));
        AllocatorStats[] after = await Task.WhenAll(Nodes.Select(StatsOf));
        for (int i = 0; i < before.Length; i++)
        {
            Assert.Equal(before[i].FreePages, after[i].FreePages);
            Assert.Equal(before[i].Actors, after[i].Actors);
            Assert.Equal(before[i].AllocationFailures, after[i].AllocationFailures);
        }
    }

    [Fact]
    public async Task A_garbage_frame_is_dropped_with_a_clear_error_and_the_receiving_node_carries_on()
    {
        await using DmaSgClusterClient client = DmaSgCluster.Get(A).CreateClient();
        BufferHandle buffer = await client.AllocateAsync(Size, DmaDirection.Bidirectional, "default", "target", Placement.OnNode(NameOf(B)));
        byte[] content = RemoteBufferTests.Pattern(Size, seed: 5);
        await buffer.WriteAsync(0, content);
        AllocatorStats[] before = await Task.WhenAll(Nodes.Select(StatsOf));
        var errors = CreateTestProbe(B);
        B.EventStream.Subscribe(errors.Ref, typeof(LogEvent));

        // A rogue process speaks DmaSg's serializer id with bytes of its own choosing.
        using ActorSystem rogue = ActorSystem.Create("rogue", ConfigurationFactory.ParseString($$"""
            akka.loglevel = WARNING
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
            akka.actor.serializers.garbage = "{{typeof(GarbageSerializer).AssemblyQualifiedName}}"
            akka.actor.serialization-bindings { "{{typeof(GarbageFrame).AssemblyQualifiedName}}" = garbage }
            """));
        string bufferPath = buffer.Buffer.Path.ToSerializationFormat();
        IActorRef target = ((ExtendedActorSystem)rogue).Provider.ResolveActorRef(bufferPath);
        target.Tell(new GarbageFrame("wb", [DmaSgSerializer.WireVersion, 0, 0xFF, 0x7F])); // a byte array longer than the frame
        target.Tell(new GarbageFrame("zz", [DmaSgSerializer.WireVersion])); // no such message
        target.Tell(new GarbageFrame("wb", [42, 0, 0])); // a version nobody wrote

        LogEvent logged = errors.FishForMessage<LogEvent>(e => e.ToString().Contains("DmaSg wire format: malformed", StringComparison.Ordinal),
            Dilated(TimeSpan.FromSeconds(10)));
        Assert.Contains("DmaSg wire format", logged.ToString(), StringComparison.Ordinal);
        await rogue.Terminate();

        // B's buffer is untouched and still answers A; every node's memory is as it was; the cluster is whole.
        Assert.Equal(content, await buffer.ReadAsync(0, Size));
        AllocatorStats[] after = await Task.WhenAll(Nodes.Select(StatsOf));
        for (int i = 0; i < before.Length; i++)
        {
            Assert.Equal(before[i].FreePages, after[i].FreePages);
            Assert.Equal(before[i].Actors, after[i].Actors);
        }

        await AwaitAllUp(Nodes);
    }

    private static DmaSgError Failure(IDmaSgReply reply) => Assert.IsType<DmaSgFailure>(reply).Error;
}

/// <summary>Raw bytes under any manifest: what a broken or hostile peer could put on the wire.</summary>
public sealed record GarbageFrame(string Manifest, byte[] Bytes);

/// <summary>Sends <see cref="GarbageFrame"/>s under DmaSg's serializer id (only the rogue system loads it).</summary>
public sealed class GarbageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public override int Identifier => DmaSgSerializer.SerializerId;

    public override string Manifest(object o) => ((GarbageFrame)o).Manifest;

    public override byte[] ToBinary(object obj) => ((GarbageFrame)obj).Bytes;

    public override object FromBinary(byte[] bytes, string manifest) => new GarbageFrame(manifest, bytes);
}
