using Akka.Hosting;
using DmaSg.Actors.Configuration;

namespace DmaSg.Actors.Cluster;

/// <summary>Akka.Hosting module for <see cref="DmaSgCluster"/>; add it after WithClustering (and WithDmaSg on a serving node).</summary>
public static class DmaSgClusterHosting
{
    /// <summary>
    /// Starts <see cref="DmaSgCluster"/> with the ActorSystem. With <paramref name="serve"/> the node also serves its
    /// arena (starting the allocator) and publishes its stats; without, it is a client that allocates elsewhere.
    /// </summary>
    public static AkkaConfigurationBuilder WithDmaSgCluster(this AkkaConfigurationBuilder builder, bool serve = true)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddHocon(DmaSgConfig.Default, HoconAddMode.Append);
        return builder.WithActors((system, _) =>
        {
            DmaSgCluster cluster = DmaSgCluster.Get(system);
            if (serve)
            {
                cluster.Serve();
            }
        });
    }
}
