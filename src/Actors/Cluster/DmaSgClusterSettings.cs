using Akka.Configuration;

namespace DmaSg.Actors.Cluster;

/// <summary>The <c>dmasg.cluster</c> section of the configuration (see reference.conf).</summary>
public sealed record DmaSgClusterSettings(TimeSpan StatsInterval, TimeSpan StatsRefresh, string StatsKey)
{
    public static DmaSgClusterSettings From(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config c = config.GetConfig("dmasg.cluster") ?? Config.Empty;
        var settings = new DmaSgClusterSettings(
            c.GetTimeSpan("stats-interval", TimeSpan.FromSeconds(1), allowInfinite: false),
            c.GetTimeSpan("stats-refresh", TimeSpan.FromSeconds(10), allowInfinite: false),
            c.GetString("stats-key", "dmasg-node-stats"));
        if (settings.StatsInterval <= TimeSpan.Zero || settings.StatsRefresh <= TimeSpan.Zero || string.IsNullOrWhiteSpace(settings.StatsKey))
        {
            throw new Memory.DmaSgException(Memory.DmaSgError.InvalidArgument,
                $"dmasg.cluster: stats-interval ({settings.StatsInterval}) and stats-refresh ({settings.StatsRefresh}) must be positive and stats-key set");
        }

        return settings;
    }
}
