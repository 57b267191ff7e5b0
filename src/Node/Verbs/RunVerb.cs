using System.Collections;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Protocol;
using DmaSg.Node.Hosting;

namespace DmaSg.Node.Verbs;

/// <summary>
/// <c>run</c>: serve this node's arena to the cluster until Ctrl+C (or SIGTERM), then leave the cluster through
/// CoordinatedShutdown and check that the arena was released.
/// </summary>
public static class RunVerb
{
    public const string Summary = "serve this node's arena in the cluster until Ctrl+C (--config FILE --port N --hostname H --seed HOST:PORT --role R)";

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, IDictionary environment)
    {
        NodeOptions options = NodeOptions.Parse(args, environment);
        var config = NodeConfig.Build(options, NodeMode.Serve);
        NodeHost node = await NodeHost.StartAsync(config, NodeMode.Serve);
        string arena = BufferManager.Get(node.System).Settings.ArenaName;
        await using (node)
        {
            if (!await node.WaitUpAsync(TimeSpan.FromSeconds(60)))
            {
                await stdout.WriteLineAsync($"dmasg run: could not join the cluster at {string.Join(", ", NodeConfig.Seeds(config))}");
                return 1;
            }

            AllocatorStats stats = await BufferManager.Get(node.System).GetStatsAsync();
            await stdout.WriteLineAsync(
                $"dmasg node up at {node.Cluster.SelfAddress} (roles {string.Join(",", node.Cluster.SelfRoles)}), " +
                $"arena {stats.TotalPages * stats.PageSize >> 20} MiB; Ctrl+C to stop");
            await stdout.FlushAsync();

            await node.WaitForShutdownAsync();
            await stdout.WriteLineAsync("dmasg node stopping: leaving the cluster and releasing every buffer");
            await stdout.FlushAsync();
        }

        // The ActorSystem has terminated: the allocator's PostStop closed the arena. Prove it from /proc.
        int open = ArenaFds.Count(arena);
        await stdout.WriteLineAsync($"dmasg node stopped cleanly: arena fds open: {open}");
        return open == 0 ? 0 : 1;
    }
}

/// <summary>Open file descriptors of this process that are the arena's memfd (from /proc/self/fd).</summary>
public static class ArenaFds
{
    public static int Count(string arenaName)
    {
        int n = 0;
        foreach (string fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                string? target = new FileInfo(fd).LinkTarget;
                if (target is not null && target.StartsWith($"/memfd:{arenaName}", StringComparison.Ordinal))
                {
                    n++;
                }
            }
            catch (IOException)
            {
                // The fd closed while we looked (the enumeration's own fd, for one).
            }
        }

        return n;
    }
}
