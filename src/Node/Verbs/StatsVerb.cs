using System.Collections;
using System.Globalization;
using Akka.Cluster;
using DmaSg.Actors.Cluster;
using DmaSg.Node.Hosting;

namespace DmaSg.Node.Verbs;

/// <summary><c>stats</c>: join the cluster as a client, print every node's memory as a table, leave.</summary>
public static class StatsVerb
{
    public const string Summary = "join the cluster as a client, print every node's memory as a table, leave (--seed HOST:PORT, default 127.0.0.1:4053)";

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, IDictionary environment)
    {
        NodeOptions options = NodeOptions.Parse(args, environment);
        var config = NodeConfig.Build(options, NodeMode.Client);
        await using NodeHost node = await NodeHost.StartAsync(config, NodeMode.Client);
        if (!await node.WaitUpAsync(TimeSpan.FromSeconds(30)))
        {
            await stdout.WriteLineAsync($"dmasg stats: no node answered at {string.Join(", ", NodeConfig.Seeds(config))} (is `dmasg run` up?)");
            return 1;
        }

        IReadOnlyList<NodeMemoryStats> stats = await AwaitEveryServingNode(node, TimeSpan.FromSeconds(15));
        Write(stats, node.Cluster, stdout);
        await stdout.FlushAsync();
        return stats.Count > 0 ? 0 : 1;
    }

    /// <summary>Waits until every Up member with the "dmasg" role has its stats in this node's replica (or the timeout).</summary>
    public static async Task<IReadOnlyList<NodeMemoryStats>> AwaitEveryServingNode(NodeHost node, TimeSpan timeout)
    {
        DmaSgCluster cluster = DmaSgCluster.Get(node.System);
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            IReadOnlyList<NodeMemoryStats> stats = await cluster.GetNodeStatsAsync();
            var serving = node.Cluster.State.Members.Where(m => m.Status == MemberStatus.Up && m.HasRole("dmasg")).Select(m => m.Address.ToString()).ToHashSet();
            if ((serving.Count > 0 && serving.All(a => stats.Any(s => s.Address == a))) || DateTime.UtcNow > deadline)
            {
                return stats;
            }

            // Replication is gossip: poll the local replica (no network round trip) until it caught up.
            await Task.Delay(100);
        }
    }

    public static void Write(IReadOnlyList<NodeMemoryStats> stats, Akka.Cluster.Cluster cluster, TextWriter to)
    {
        ArgumentNullException.ThrowIfNull(stats);
        ArgumentNullException.ThrowIfNull(to);
        var inv = CultureInfo.InvariantCulture;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        string[] header = ["NODE", "FREE MiB", "TOTAL MiB", "FREE PAGES", "LARGEST FREE BLOCK", "BUFFERS", "AGE"];
        var rows = stats.Select(s => new[]
        {
            s.Node,
            (s.FreeBytes / 1048576.0).ToString("F1", inv),
            (s.TotalBytes / 1048576.0).ToString("F1", inv),
            s.FreePages.ToString(inv),
            s.LargestFreeOrder < 0 ? "none" : $"order {s.LargestFreeOrder} ({((long)s.PageSize << s.LargestFreeOrder) / 1024} KiB)",
            s.LiveBuffers.ToString(inv),
            $"{Math.Max(0, now - s.UpdatedAtMs) / 1000.0:F1}s",
        }).ToList();
        int[] widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i])));
        to.WriteLine(Line(header));
        foreach (string[] row in rows)
        {
            to.WriteLine(Line(row));
        }

        long free = stats.Sum(s => s.FreeBytes), total = stats.Sum(s => s.TotalBytes);
        int clients = cluster.State.Members.Count(m => m.Status == MemberStatus.Up && !m.HasRole("dmasg"));
        to.WriteLine(string.Create(inv,
            $"{stats.Count} node(s) serving, {free / 1048576.0:F1} MiB free of {total / 1048576.0:F1} MiB; {clients} client(s) connected (this one included)"));
    }
}
