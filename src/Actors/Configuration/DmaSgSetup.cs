using Akka.Actor.Setup;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Configuration;

/// <summary>
/// What HOCON cannot carry: devices built in code (say, a checker a test inspects) and a fault injector.
/// Add it to the ActorSystemSetup (or with Akka.Hosting's AddSetup); BufferManager picks it up.
/// </summary>
public sealed class DmaSgSetup : Setup
{
    /// <summary>Devices registered as they are, never disposed by DmaSg.</summary>
    public IReadOnlyList<IDmaDevice> Devices { get; init; } = [];

    /// <summary>Test hook: fails chosen page-block allocations.</summary>
    public IAllocFaultInjector? FaultInjector { get; init; }
}
