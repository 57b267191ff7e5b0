using System.Numerics;
using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Configuration;

namespace DmaSg.Actors.Cluster;

/// <summary>
/// How big a chunk may be and how many may be in flight, for a transfer with a given peer. A peer on another
/// node gets chunks that fit the remote transport's frame (an oversized frame is dropped by the transport and
/// its reply never comes); a local one gets <c>dmasg.max-chunk</c>. Read once per ActorSystem.
/// </summary>
internal sealed class TransferLimits
{
    /// <summary>Akka.Remote's own default (akka.remote.dot-netty.tcp.maximum-frame-size).</summary>
    public const long DefaultFrameSize = 128000;

    private static readonly ConditionalWeakTable<ActorSystem, TransferLimits> Cache = new();

    private TransferLimits(Config config)
    {
        long frame = Bytes(config, "akka.remote.dot-netty.tcp.maximum-frame-size") ?? DefaultFrameSize;
        long headroom = Bytes(config, "dmasg.transfer.frame-headroom") ?? 4096;
        long room = Math.Max(frame - headroom, 1024);
        RemoteChunk = (int)Math.Min(BitOperations.RoundUpToPowerOf2((ulong)room + 1) >> 1, 1 << 30);
        MaxInFlight = Math.Max(1, config.HasPath("dmasg.transfer.max-in-flight") ? config.GetInt("dmasg.transfer.max-in-flight") : 4);
        FrameSize = frame;
    }

    /// <summary>Largest chunk to or from another node.</summary>
    public int RemoteChunk { get; }

    /// <summary>Chunks of one transfer awaiting their reply at once.</summary>
    public int MaxInFlight { get; }

    /// <summary>The remote transport's maximum frame.</summary>
    public long FrameSize { get; }

    public static TransferLimits Of(ActorSystem system) => Cache.GetValue(system, static s => new TransferLimits(s.Settings.Config));

    /// <summary>True when <paramref name="peer"/> lives in another ActorSystem (another node).</summary>
    public static bool IsRemote(IActorRef? peer) => peer is not null && peer.Path.Address.HasGlobalScope;

    /// <summary>The chunk limit for messages to or from <paramref name="peer"/>.</summary>
    public int ChunkFor(IActorRef? peer, int maxChunk) => IsRemote(peer) ? Math.Min(maxChunk, RemoteChunk) : maxChunk;

    private static long? Bytes(Config config, string path) => config.HasPath(path) ? config.GetByteSize(path) : null;
}
