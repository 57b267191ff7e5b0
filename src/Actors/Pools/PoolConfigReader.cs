using Akka.Configuration;
using DmaSg.Actors.Protocol;
using DmaSg.Memory;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Pools;

/// <summary>Reads <c>dmasg.pools</c> (the defaults of a new pool) into a <see cref="PoolConfig"/> without a size.</summary>
internal static class PoolConfigReader
{
    public static PoolConfig Read(Config dmasg)
    {
        ArgumentNullException.ThrowIfNull(dmasg);
        Config c = dmasg.GetConfig("pools");
        return new PoolConfig
        {
            MinBuffers = c.GetInt("min-buffers"),
            MaxBuffers = c.GetInt("max-buffers"),
            ZeroOnRecycle = c.GetBoolean("zero-on-recycle"),
            WhenEmpty = c.GetString("when-empty") switch
            {
                "wait" => PoolEmptyPolicy.Wait,
                "fail" => PoolEmptyPolicy.Fail,
                string other => throw Bad($"dmasg.pools.when-empty \"{other}\" is not wait or fail"),
            },
            AcquireTimeout = c.GetTimeSpan("acquire-timeout", null, allowInfinite: false),
            MaxWaiters = c.GetInt("max-waiters"),
            Direction = c.GetString("direction") switch
            {
                "to-device" => DmaDirection.ToDevice,
                "from-device" => DmaDirection.FromDevice,
                "bidirectional" => DmaDirection.Bidirectional,
                string other => throw Bad($"dmasg.pools.direction \"{other}\" is not to-device, from-device or bidirectional"),
            },
            Device = c.GetString("device"),
        };
    }

    private static DmaSgException Bad(string message) => new(DmaSgError.InvalidArgument, message);
}
