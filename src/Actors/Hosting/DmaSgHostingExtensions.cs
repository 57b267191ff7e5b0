using Akka.Hosting;
using DmaSg.Actors.Configuration;
using DmaSg.Actors.Facade;

namespace DmaSg.Actors.Hosting;

/// <summary>ActorRegistry key of the DmaSg allocator: inject <c>IRequiredActor&lt;DmaSgAllocator&gt;</c>.</summary>
public sealed class DmaSgAllocator
{
    private DmaSgAllocator()
    {
    }
}

/// <summary>
/// Akka.Hosting module for DmaSg, in the style of WithDistributedPubSub: appends the defaults, applies the
/// options, starts <see cref="BufferManager"/> and registers its allocator under <see cref="DmaSgAllocator"/>.
/// </summary>
public static class DmaSgHostingExtensions
{
    /// <summary>Adds DmaSg to the ActorSystem that Akka.Hosting builds.</summary>
    public static AkkaConfigurationBuilder WithDmaSg(this AkkaConfigurationBuilder builder, DmaSgOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        options ??= new DmaSgOptions();
        builder.AddHocon(DmaSgConfig.Default, HoconAddMode.Append);
        builder.AddHocon(options.ToConfig(), HoconAddMode.Prepend);
        if (options.Devices.Count > 0 || options.FaultInjector is not null)
        {
            builder.AddSetup(new DmaSgSetup { Devices = [.. options.Devices], FaultInjector = options.FaultInjector });
        }

        return builder.WithActors((system, registry) =>
        {
            registry.Register<DmaSgAllocator>(BufferManager.Get(system).Allocator);
        });
    }

    /// <summary>Same as <see cref="WithDmaSg(AkkaConfigurationBuilder, DmaSgOptions?)"/>.</summary>
    public static AkkaConfigurationBuilder AddDmaSg(this AkkaConfigurationBuilder builder, DmaSgOptions options) => builder.WithDmaSg(options);

    /// <summary>Same as <see cref="WithDmaSg(AkkaConfigurationBuilder, DmaSgOptions?)"/>, configuring the options in place.</summary>
    public static AkkaConfigurationBuilder AddDmaSg(this AkkaConfigurationBuilder builder, Action<DmaSgOptions>? configure = null)
    {
        var options = new DmaSgOptions();
        configure?.Invoke(options);
        return builder.WithDmaSg(options);
    }
}
