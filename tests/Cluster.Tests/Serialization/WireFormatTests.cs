using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using DmaSg.Actors.Allocator;
using DmaSg.Actors.Cluster;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Serialization;
using DmaSg.Cluster.Tests.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DmaSg.Cluster.Tests.Serialization;

/// <summary>
/// The wire format: every protocol message is bound to <see cref="DmaSgSerializer"/>, round-trips unchanged,
/// and malformed bytes of any kind give a SerializationException that names the frame, never anything else.
/// </summary>
public sealed class WireFormatTests : IClassFixture<WireFormatTests.WireSystem>
{
    // Messages that carry objects or memory of their own process; the serializer refuses them by design.
    private static readonly Type[] LocalOnly = [typeof(RegisterDevice), typeof(GetUserptr), typeof(SetFaultInjector), typeof(DmaSg.Actors.Buffers.LosePages), typeof(FdExported)];

    private readonly ActorSystem _system;
    private readonly DmaSgSerializer _serializer;
    private readonly MessageGen _gen;

    public WireFormatTests(WireSystem fixture)
    {
        _system = fixture.System;
        _serializer = Assert.IsType<DmaSgSerializer>(_system.Serialization.FindSerializerForType(typeof(Allocate)));
        _gen = fixture.Gen;
    }

    public static IEnumerable<object[]> WireTypes() =>
        DmaSgSerializer.Manifests.Values.Where(t => !LocalOnly.Contains(t)).OrderBy(t => t.Name).Select(t => new object[] { t });

    [Fact]
    public void Every_protocol_message_type_has_a_wire_format_and_is_bound_to_the_DmaSg_serializer()
    {
        Type[] messages = typeof(IDmaSgMessage).Assembly.GetTypes()
            .Where(t => typeof(IDmaSgMessage).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .ToArray();
        Assert.NotEmpty(messages);
        foreach (Type t in messages)
        {
            Assert.True(DmaSgSerializer.Manifests.Values.Contains(t), $"{t.FullName} has no wire format");
            Assert.IsType<DmaSgSerializer>(_system.Serialization.FindSerializerForType(t));
        }

        Assert.Equal(messages.Length, DmaSgSerializer.Manifests.Count);
    }

    [Theory]
    [MemberData(nameof(WireTypes))]
    public void Each_message_type_round_trips(Type type)
    {
        foreach (object message in _gen.For(type).Sample(25, 30))
        {
            Deep.AssertEqual(message, RoundTrip(message));
        }
    }

    [Property(MaxTest = 300)]
    public Property Any_message_round_trips_unchanged() =>
        Prop.ForAll(Arb.From(AnyMessage), message => Deep.AssertEqual(message, RoundTrip(message)));

    [Property(MaxTest = 500)]
    public Property A_corrupted_frame_decodes_or_fails_with_a_SerializationException_naming_it() =>
        Prop.ForAll(Arb.From(from m in AnyMessage from cut in Gen.Choose(0, 1000) from pos in Gen.Choose(0, 1000)
                             from value in Gen.Choose(0, 255) from kind in Gen.Choose(0, 3) select (m, cut, pos, value, kind)),
            c =>
            {
                string manifest = _serializer.Manifest(c.m);
                byte[] bytes = _serializer.ToBinary(c.m);
                byte[] bad = c.kind switch
                {
                    0 => bytes[..(c.cut % bytes.Length)], // truncated
                    1 => Flip(bytes, c.pos % bytes.Length, (byte)c.value),
                    2 => [.. bytes, (byte)c.value], // trailing garbage
                    _ => Flip(Flip(bytes, c.pos % bytes.Length, (byte)c.value), c.cut % bytes.Length, (byte)(c.value * 7)),
                };
                try
                {
                    _serializer.FromBinary(bad, manifest);
                }
                catch (SerializationException e)
                {
                    Assert.StartsWith($"DmaSg wire format: malformed '{manifest}' frame", e.Message, StringComparison.Ordinal);
                }
            });

    [Fact]
    public void Malformed_frames_get_clear_errors()
    {
        byte[] ok = _serializer.ToBinary(new ReadBytes(4096, 100));
        Assert.Contains("the frame ends where a byte should be", Fails([], "rb"));
        Assert.Contains("wire version 9; this node reads version 1", Fails([9, .. ok[1..]], "rb"));
        Assert.Contains("unknown manifest", Fails(ok, "zz"));
        Assert.Contains("1 bytes left over", Fails([.. ok, 0], "rb"));
        Assert.Contains("the frame ends where a varint should be", Fails(ok[..^1], "rb"));
        Assert.Contains("a byte array of 1000 bytes (or items) with only 0 bytes left", Fails([1, 0, 0xE8, 0x07], "wb"));
        Assert.Contains("not UTF-8", Fails([1, 2, 0xC3, 0x28], "xd"));
        Assert.Contains("is not a DmaDirection", Fails([1, 198, 1], "ma"));
        Assert.Contains("does not fit an int", Fails([1, 0, 0xFE, 0xFF, 0xFF, 0xFF, 0x1F], "rb"));
    }

    [Fact]
    public void Messages_that_carry_this_process_memory_or_objects_refuse_to_cross()
    {
        var holder = _system.ActorOf(Props.Empty);
        var userptr = new GetUserptr(new UserMemory.Managed(new byte[4096]), DmaDirection.ToDevice, "default", holder);
        Assert.Contains("cannot cross nodes", Assert.Throws<SerializationException>(() => _serializer.ToBinary(userptr)).Message);
        var device = new RegisterDevice(new CoherentDevice("x"));
        Assert.Contains("cannot cross nodes", Assert.Throws<SerializationException>(() => _serializer.ToBinary(device)).Message);
    }

    [Fact]
    public void Frames_are_compact()
    {
        // A chunk request is a handful of bytes; a chunk reply is its data plus a few.
        Assert.True(_serializer.ToBinary(new ReadBytes(1L << 30, 65536)).Length <= 10);
        Assert.True(_serializer.ToBinary(new BytesRead(1L << 30, new byte[65536])).Length <= 65536 + 10);
        Assert.Single(_serializer.ToBinary(Done.Instance));
        Assert.True(_serializer.ToBinary(new DmaSgFailure(DmaSgError.Fault, "x")).Length <= 5);
    }


    private Gen<object> AnyMessage => Gen.OneOf(WireTypes().Select(t => _gen.For((Type)t[0])));

    private object RoundTrip(object message) => _serializer.FromBinary(_serializer.ToBinary(message), _serializer.Manifest(message));

    private string Fails(byte[] bytes, string manifest) =>
        Assert.Throws<SerializationException>(() => _serializer.FromBinary(bytes, manifest)).Message;

    private static byte[] Flip(byte[] bytes, int at, byte value)
    {
        byte[] copy = bytes.ToArray();
        copy[at] ^= (byte)(value | 1);
        return copy;
    }

    /// <summary>One cluster-provider ActorSystem (not joined) for every test: refs resolve as they would off the wire.</summary>
    public sealed class WireSystem : IDisposable
    {
        public WireSystem()
        {
            System = ActorSystem.Create(ClusterTestKit.SystemName, ConfigurationFactory.ParseString("""
                akka.loglevel = WARNING
                akka.actor.provider = cluster
                akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
                """));
            DmaSgCluster.Get(System);
            IActorRef remote = ((ExtendedActorSystem)System).Provider.ResolveActorRef("akka.tcp://dmasg@127.0.0.1:1/user/holder#42");
            Gen = new MessageGen([System.ActorOf(Props.Empty, "holder"), System.ActorOf(Props.Empty), remote, ActorRefs.Nobody]);
        }

        public ActorSystem System { get; }

        public MessageGen Gen { get; }

        public void Dispose() => System.Terminate().Wait(TimeSpan.FromSeconds(10));
    }
}
