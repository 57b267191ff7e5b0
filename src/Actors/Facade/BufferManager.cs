using Akka.Actor;
using DmaSg.Actors.Allocator;
using DmaSg.Actors.Configuration;
using DmaSg.Actors.Protocol;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Facade;

/// <summary>
/// The DmaSg extension of an ActorSystem: starts the allocator (from the <c>dmasg</c> config, whose defaults
/// it injects as a top-level fallback, so no configuration is needed) and gives non-actor code async handles.
/// <code>
/// var dmasg = BufferManager.Get(system);
/// await using var buf = await dmasg.AllocateAsync(1 &lt;&lt; 20, DmaDirection.FromDevice);
/// </code>
/// Refs taken through it belong to its holder actor (<see cref="DmaSgClient.Holder"/>); for a group of refs
/// that should vanish together, use <see cref="CreateClient"/>.
/// </summary>
public sealed partial class BufferManager : IExtension
{
    private readonly ExtendedActorSystem _system;

    public BufferManager(ExtendedActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        _system = system;

        // The Akka.DistributedData pattern: library defaults become a fallback of the system's config.
        system.Settings.InjectTopLevelFallback(DmaSgConfig.Default);
        Akka.Util.Option<DmaSgSetup> setup = system.Settings.Setup.Get<DmaSgSetup>();
        Settings = DmaSgConfig.ToSettings(system.Settings.Config, setup.HasValue ? setup.Value : null);
        Allocator = system.ActorOf(AllocatorActor.Props(Settings), "dmasg");
        Client = new DmaSgClient(system, Allocator, Settings, system.ActorOf(HolderActor.Props(), "dmasg-holder"), ownsHolder: false);
    }

    /// <summary>The settings the allocator was started with.</summary>
    public DmaSgSettings Settings { get; }

    /// <summary>The allocator actor (/user/dmasg), for actor code that speaks the protocol directly.</summary>
    public IActorRef Allocator { get; }

    /// <summary>The default client; its holder lives as long as the ActorSystem.</summary>
    public DmaSgClient Client { get; }

    public static BufferManager Get(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        return system.WithExtension<BufferManager, BufferManagerProvider>();
    }

    /// <summary>
    /// A client with a holder actor of its own: disposing it stops the holder, and DeathWatch drops every ref
    /// taken through it (buffers, dmabufs, attachments, importers, mappings) as if a process had died.
    /// </summary>
    public DmaSgClient CreateClient() =>
        new(_system, Allocator, Settings, _system.ActorOf(HolderActor.Props()), ownsHolder: true);

    /// <inheritdoc cref="DmaSgClient.AllocateAsync"/>
    public Task<BufferHandle> AllocateAsync(long size, DmaDirection direction = DmaDirection.Bidirectional, string device = "default", string? name = null) =>
        Client.AllocateAsync(size, direction, device, name);

    /// <inheritdoc cref="DmaSgClient.UserptrAsync(Memory{byte}, DmaDirection, string)"/>
    public Task<BufferHandle> UserptrAsync(Memory<byte> memory, DmaDirection direction, string device = "default") =>
        Client.UserptrAsync(memory, direction, device);

    /// <inheritdoc cref="DmaSgClient.UserptrAsync(ReadOnlyMemory{byte}, DmaDirection, string)"/>
    public Task<BufferHandle> UserptrAsync(ReadOnlyMemory<byte> memory, DmaDirection direction, string device = "default") =>
        Client.UserptrAsync(memory, direction, device);

    /// <inheritdoc cref="DmaSgClient.UserptrAsync(nint, long, DmaDirection, string)"/>
    public Task<BufferHandle> UserptrAsync(nint address, long length, DmaDirection direction, string device = "default") =>
        Client.UserptrAsync(address, length, direction, device);

    /// <inheritdoc cref="DmaSgClient.ImportAsync"/>
    public Task<ImportHandle> ImportAsync(DmaBufHandle dmabuf, long size, DmaDirection direction, string device = "default") =>
        Client.ImportAsync(dmabuf, size, direction, device);

    /// <inheritdoc cref="DmaSgClient.GetStatsAsync"/>
    public Task<AllocatorStats> GetStatsAsync() => Client.GetStatsAsync();

    /// <inheritdoc cref="DmaSgClient.InspectAsync"/>
    public Task<DmaSgInspection> InspectAsync() => Client.InspectAsync();
}

/// <summary>Registers <see cref="BufferManager"/> as an Akka extension.</summary>
public sealed class BufferManagerProvider : ExtensionIdProvider<BufferManager>
{
    public override BufferManager CreateExtension(ExtendedActorSystem system) => new(system);
}

/// <summary>
/// A holder: an actor whose only job is to be alive. Refs taken in its name last until it stops, then
/// DeathWatch releases them.
/// </summary>
internal sealed class HolderActor : UntypedActor
{
    public static Props Props() => Support.ActorProps.Of(() => new HolderActor());

    protected override void OnReceive(object message)
    {
        // Holders receive nothing they must act on; replies go to the asking actors.
    }
}
