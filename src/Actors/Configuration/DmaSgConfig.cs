using Akka.Configuration;
using DmaSg.Memory;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Configuration;

/// <summary>The embedded reference.conf and the reading of <c>dmasg { ... }</c> into <see cref="DmaSgSettings"/>.</summary>
public static class DmaSgConfig
{
    private const string ResourceName = "DmaSg.Actors.reference.conf";
    private static readonly Lazy<Config> Reference = new(LoadReference);

    /// <summary>hocon/reference.conf, embedded in this assembly: every dmasg setting with its default.</summary>
    public static Config Default => Reference.Value;

    /// <summary>
    /// Reads the <c>dmasg</c> section of <paramref name="config"/> (falling back to <see cref="Default"/>).
    /// Devices and the fault injector of <paramref name="setup"/>, when given, are added as they are.
    /// Throws InvalidArgument for a value the allocator cannot use.
    /// </summary>
    public static DmaSgSettings ToSettings(Config config, DmaSgSetup? setup = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config c = config.WithFallback(Default).GetConfig("dmasg");
        var settings = new DmaSgSettings
        {
            ArenaSize = Bytes(c, "arena-size"),
            MaxOrder = c.GetInt("max-order"),
            Backend = c.GetString("backend"),
            DmaHeapName = c.GetString("dma-heap.heap"),
            DmaHeapFallback = c.GetString("dma-heap.fallback"),
            Zero = c.GetString("zero-strategy") switch
            {
                "memset" => ZeroStrategy.Memset,
                "punch-hole" => ZeroStrategy.PunchHole,
                string other => throw Bad($"dmasg.zero-strategy \"{other}\" is not memset or punch-hole"),
            },
            ArenaName = c.GetString("arena-name"),
            MaxSegment = Bytes(c, "max-segment") is var seg and > 0 ? seg : null,
            Checker = c.GetBoolean("checker"),
            CheckerMode = c.GetString("checker-mode") switch
            {
                "throw" => DmaApiCheckerMode.Throw,
                "record" => DmaApiCheckerMode.Record,
                string other => throw Bad($"dmasg.checker-mode \"{other}\" is not throw or record"),
            },
            DebugLevel = c.GetInt("debug-level"),
            AskTimeout = c.GetTimeSpan("ask-timeout", null, allowInfinite: false),
            MaxChunk = checked((int)Bytes(c, "max-chunk")),
            DeviceSpecs = Devices(c),
            ExportProviders = ExportProviders(c),
            Devices = setup?.Devices ?? [],
            FaultInjector = setup?.FaultInjector,
            QuotaDefaultPages = c.GetLong("quota.default-pages"),
            Pools = DmaSg.Actors.Pools.PoolConfigReader.Read(c),
        };
        settings.Validate();
        return settings;
    }

    private static DeviceSpec[] Devices(Config c)
    {
        if (!c.HasPath("devices"))
        {
            return [];
        }

        Config devices = c.GetConfig("devices");
        return devices.Root.GetObject().Items.Keys
            .OrderBy(k => k, StringComparer.Ordinal)
            .Select(name =>
            {
                Config d = devices.GetConfig(name);
                DeviceModel model = d.GetString("model") switch
                {
                    "coherent" => DeviceModel.Coherent,
                    "iommu" => DeviceModel.Iommu,
                    "bounce" => DeviceModel.Bounce,
                    string other => throw Bad($"dmasg.devices.{name}.model \"{other}\" is not coherent, iommu or bounce"),
                };
                return new DeviceSpec(name, model, Positive(d, "max-segment"), Positive(d, "pool-size"), Positive(d, "address-limit"));
            })
            .ToArray();
    }

    private static string[] ExportProviders(Config c)
    {
        try
        {
            return c.GetStringList("export.providers").ToArray();
        }
        catch (Exception e) when (e is ConfigurationException or InvalidCastException or FormatException)
        {
            throw Bad($"dmasg.export.providers is not a list of provider names: {e.Message}");
        }
    }

    private static long? Positive(Config c, string key) => c.HasPath(key) && Bytes(c, key) is var v and > 0 ? v : null;

    private static long Bytes(Config c, string key)
    {
        try
        {
            return c.GetByteSize(key) ?? throw Bad($"dmasg: {key} is missing");
        }
        catch (Exception e) when (e is FormatException or OverflowException or ConfigurationException)
        {
            throw Bad($"dmasg: {key} is not a byte size: {e.Message}");
        }
    }

    private static DmaSgException Bad(string message) => new(DmaSgError.InvalidArgument, message);

    private static Config LoadReference()
    {
        using Stream stream = typeof(DmaSgConfig).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{ResourceName} is not embedded in {typeof(DmaSgConfig).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
