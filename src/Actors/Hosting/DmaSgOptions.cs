using System.Globalization;
using System.Text;
using Akka.Configuration;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Hosting;

/// <summary>
/// Akka.Hosting options for DmaSg: each non-null property overrides the <c>dmasg</c> key of the same name in
/// reference.conf. Devices built in code (and a fault injector) travel in a <see cref="Configuration.DmaSgSetup"/>.
/// </summary>
public sealed class DmaSgOptions
{
    /// <summary>dmasg.arena-size, bytes.</summary>
    public long? ArenaSize { get; set; }

    /// <summary>dmasg.max-order.</summary>
    public int? MaxOrder { get; set; }

    /// <summary>dmasg.backend.</summary>
    public string? Backend { get; set; }

    /// <summary>dmasg.zero-strategy.</summary>
    public ZeroStrategy? Zero { get; set; }

    /// <summary>dmasg.max-segment, bytes.</summary>
    public long? MaxSegment { get; set; }

    /// <summary>dmasg.checker.</summary>
    public bool? Checker { get; set; }

    /// <summary>dmasg.checker-mode.</summary>
    public DmaApiCheckerMode? CheckerMode { get; set; }

    /// <summary>dmasg.debug-level.</summary>
    public int? DebugLevel { get; set; }

    /// <summary>dmasg.ask-timeout.</summary>
    public TimeSpan? AskTimeout { get; set; }

    /// <summary>dmasg.max-chunk, bytes.</summary>
    public int? MaxChunk { get; set; }

    /// <summary>dmasg.quota.default-pages (0 = unlimited).</summary>
    public long? QuotaDefaultPages { get; set; }

    /// <summary>dmasg.devices: added to (or replacing by name) the configured devices.</summary>
    public IList<DeviceSpec> DeviceSpecs { get; } = [];

    /// <summary>Devices built in code, registered as they are.</summary>
    public IList<IDmaDevice> Devices { get; } = [];

    /// <summary>Test hook: fails chosen page-block allocations.</summary>
    public IAllocFaultInjector? FaultInjector { get; set; }

    /// <summary>The overrides as HOCON (only the keys that are set).</summary>
    public Config ToConfig()
    {
        var sb = new StringBuilder("dmasg {\n");
        void Add(string key, object? value)
        {
            if (value is not null)
            {
                sb.Append(CultureInfo.InvariantCulture, $"  {key} = {value}\n");
            }
        }

        Add("arena-size", ArenaSize);
        Add("max-order", MaxOrder);
        Add("backend", Backend is null ? null : Quote(Backend));
        Add("zero-strategy", Zero switch { ZeroStrategy.Memset => "memset", ZeroStrategy.PunchHole => "punch-hole", _ => null });
        Add("max-segment", MaxSegment);
        Add("checker", Checker is null ? null : Checker.Value ? "on" : "off");
        Add("checker-mode", CheckerMode switch { DmaApiCheckerMode.Throw => "throw", DmaApiCheckerMode.Record => "record", _ => null });
        Add("debug-level", DebugLevel);
        Add("ask-timeout", AskTimeout is { } t ? $"{(long)t.TotalMilliseconds}ms" : null);
        Add("max-chunk", MaxChunk);
        Add("quota.default-pages", QuotaDefaultPages);
        foreach (DeviceSpec d in DeviceSpecs)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"  devices.{Quote(d.Name)} {{ model = {d.Model.ToString().ToLowerInvariant()}, max-segment = {d.MaxSegment ?? 0}, pool-size = {d.PoolSize ?? 0}, address-limit = {d.AddressLimit ?? 0} }}\n");
        }

        sb.Append("}\n");
        return ConfigurationFactory.ParseString(sb.ToString());
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
