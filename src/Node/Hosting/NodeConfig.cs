using System.Globalization;
using System.Text;
using Akka.Configuration;

namespace DmaSg.Node.Hosting;

/// <summary>How a verb takes part in the cluster.</summary>
public enum NodeMode
{
    /// <summary>Serves its arena (role "dmasg"), joining the configured seeds (run).</summary>
    Serve,

    /// <summary>Joins the configured seeds without an arena (role "client", any free port): stats, demo --seed.</summary>
    Client,

    /// <summary>A one-node cluster of its own on a free port that is its own seed: demo without a cluster.</summary>
    Alone,
}

/// <summary>
/// The node's configuration: the embedded hocon/node.conf, then <c>--config FILE</c>, then the environment, then
/// the arguments, each overriding the one before (see <see cref="NodeOptions"/>).
/// </summary>
public static class NodeConfig
{
    /// <summary>Every DmaSg node's ActorSystem name (it is part of each node's address).</summary>
    public const string SystemName = "dmasg";

    private const string ResourceName = "DmaSg.Node.node.conf";

    /// <summary>hocon/node.conf as embedded in this program.</summary>
    public static Config Embedded { get; } = Load();

    public static Config Build(NodeOptions options, NodeMode mode)
    {
        ArgumentNullException.ThrowIfNull(options);
        Config config = Embedded;
        if (options.ConfigFile is { } file)
        {
            if (!File.Exists(file))
            {
                throw new UsageException($"--config: no such file '{file}'");
            }

            config = ConfigurationFactory.ParseString(File.ReadAllText(file)).WithFallback(config);
        }

        var o = new StringBuilder();
        void Set(string key, string value) => o.Append(CultureInfo.InvariantCulture, $"{key} = {value}\n");

        // A client or a lone demo takes any free port unless told otherwise; a lone demo joins only itself.
        int? port = options.Port ?? (mode == NodeMode.Serve ? null : 0);
        if (port is { } p)
        {
            Set("akka.remote.dot-netty.tcp.port", p.ToString(CultureInfo.InvariantCulture));
        }

        if (options.Hostname is { } host)
        {
            Set("akka.remote.dot-netty.tcp.hostname", Quote(host));
        }

        if (mode == NodeMode.Alone)
        {
            Set("akka.cluster.seed-nodes", "[]");
        }
        else if (options.Seeds.Count > 0)
        {
            Set("akka.cluster.seed-nodes", List(options.Seeds));
        }

        if (options.Roles.Count > 0)
        {
            Set("akka.cluster.roles", List(options.Roles));
        }
        else if (mode == NodeMode.Client)
        {
            Set("akka.cluster.roles", List(["client"]));
        }

        return ConfigurationFactory.ParseString(o.ToString()).WithFallback(config);
    }

    public static string Hostname(Config config) => config.GetString("akka.remote.dot-netty.tcp.hostname", "127.0.0.1");

    public static int Port(Config config) => config.GetInt("akka.remote.dot-netty.tcp.port", 4053);

    public static string[] Seeds(Config config) => [.. config.GetStringList("akka.cluster.seed-nodes", [])];

    public static string[] Roles(Config config) => [.. config.GetStringList("akka.cluster.roles", [])];

    private static string List(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(Quote)) + "]";

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static Config Load()
    {
        using Stream stream = typeof(NodeConfig).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{ResourceName} is not embedded");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
