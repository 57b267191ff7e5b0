using System.Collections;
using System.Globalization;

namespace DmaSg.Node.Hosting;

/// <summary>A usage error: the verb prints it with the usage and exits 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The node options of a verb: <c>--config FILE</c>, <c>--port N</c>, <c>--hostname H</c>, <c>--seed ADDR</c> (repeatable),
/// <c>--role R</c> (repeatable), plus the verb's own flags. Each can also come from the environment (DMASG_CONFIG,
/// DMASG_PORT, DMASG_HOSTNAME, DMASG_SEEDS and DMASG_ROLES, comma-separated); an argument beats the environment.
/// </summary>
public sealed record NodeOptions
{
    public string? ConfigFile { get; init; }

    public int? Port { get; init; }

    public string? Hostname { get; init; }

    public IReadOnlyList<string> Seeds { get; init; } = [];

    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>The verb's own flags (<c>--frames 24</c>): name without dashes -> value.</summary>
    public IReadOnlyDictionary<string, string> Flags { get; init; } = new Dictionary<string, string>();

    /// <summary>True when seeds came from an argument, the environment or a config file (not the embedded default).</summary>
    public bool HasSeeds => Seeds.Count > 0;

    /// <summary>Parses the arguments after the verb; <paramref name="verbFlags"/> are the verb's own valued flags.</summary>
    public static NodeOptions Parse(IReadOnlyList<string> args, IDictionary environment, params string[] verbFlags)
    {
        ArgumentNullException.ThrowIfNull(args);
        NodeOptions env = FromEnvironment(environment);
        string? config = null, hostname = null;
        int? port = null;
        var seeds = new List<string>();
        var roles = new List<string>();
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal) || name.Length == 2)
            {
                throw new UsageException($"unexpected argument '{name}'");
            }

            string key = name[2..];
            if (i + 1 >= args.Count)
            {
                throw new UsageException($"{name} needs a value");
            }

            string value = args[++i];
            switch (key)
            {
                case "config":
                    config = value;
                    break;
                case "port":
                    port = ParsePort(value, name);
                    break;
                case "hostname":
                    hostname = value;
                    break;
                case "seed":
                    seeds.Add(SeedAddress(value));
                    break;
                case "role":
                    roles.Add(value);
                    break;
                default:
                    if (!verbFlags.Contains(key))
                    {
                        throw new UsageException($"unknown option '{name}'");
                    }

                    flags[key] = value;
                    break;
            }
        }

        return new NodeOptions
        {
            ConfigFile = config ?? env.ConfigFile,
            Port = port ?? env.Port,
            Hostname = hostname ?? env.Hostname,
            Seeds = seeds.Count > 0 ? seeds : env.Seeds,
            Roles = roles.Count > 0 ? roles : env.Roles,
            Flags = flags,
        };
    }

    /// <summary>A verb flag as a positive integer, or <paramref name="fallback"/> when absent.</summary>
    public int PositiveFlag(string name, int fallback)
    {
        if (!Flags.TryGetValue(name, out string? text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0
            ? v
            : throw new UsageException($"--{name} must be a positive integer, got '{text}'");
    }

    /// <summary>host:port is short for akka.tcp://dmasg@host:port; a full address is kept as it is.</summary>
    public static string SeedAddress(string seed)
    {
        ArgumentNullException.ThrowIfNull(seed);
        if (seed.Contains("://", StringComparison.Ordinal))
        {
            return seed;
        }

        int colon = seed.LastIndexOf(':');
        if (colon <= 0)
        {
            throw new UsageException($"seed '{seed}' is not host:port or akka.tcp://{NodeConfig.SystemName}@host:port");
        }

        ParsePort(seed[(colon + 1)..], "--seed");
        return $"akka.tcp://{NodeConfig.SystemName}@{seed}";
    }

    private static NodeOptions FromEnvironment(IDictionary environment)
    {
        string? Get(string name) => environment?[name] is string s && s.Length > 0 ? s : null;
        string[] List(string name) => Get(name)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        return new NodeOptions
        {
            ConfigFile = Get("DMASG_CONFIG"),
            Port = Get("DMASG_PORT") is { } p ? ParsePort(p, "DMASG_PORT") : null,
            Hostname = Get("DMASG_HOSTNAME"),
            Seeds = List("DMASG_SEEDS").Select(SeedAddress).ToArray(),
            Roles = List("DMASG_ROLES"),
        };
    }

    private static int ParsePort(string text, string what) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is >= 0 and <= 65535
            ? port
            : throw new UsageException($"{what}: '{text}' is not a port (0-65535)");
}
