using Akka.TestKit.Xunit2;

namespace DmaSg.Cluster.Tests.Node;

/// <summary>
/// src/Node as a user runs it: two `run` nodes and a `stats` client as real processes on loopback, checked from
/// their output, then stopped with Ctrl+C (SIGINT) and SIGTERM, each leaving the cluster and closing its arena.
/// </summary>
public sealed class NodeProcessTests : TestKit
{
    [Fact]
    public async Task Two_run_nodes_and_a_stats_client_form_a_cluster_report_every_node_and_stop_cleanly()
    {
        TimeSpan start = Dilated(TimeSpan.FromSeconds(60));
        int p1 = NodeProcess.FreePort(), p2 = NodeProcess.FreePort();
        string seed = $"127.0.0.1:{p1}";
        using NodeProcess first = NodeProcess.Start("run", "--port", $"{p1}", "--seed", seed);
        Assert.Contains($"akka.tcp://dmasg@127.0.0.1:{p1}", await first.WaitForLine("dmasg node up at", start));
        using NodeProcess second = NodeProcess.Start("run", "--port", $"{p2}", "--seed", seed);
        Assert.Contains($"akka.tcp://dmasg@127.0.0.1:{p2}", await second.WaitForLine("dmasg node up at", start));

        using (NodeProcess stats = NodeProcess.Start("stats", "--seed", seed))
        {
            Assert.Equal(0, await stats.WaitForExit(start));
            string[] lines = stats.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.StartsWith("NODE", lines[0], StringComparison.Ordinal);
            foreach (int port in new[] { p1, p2 })
            {
                string row = Assert.Single(lines, l => l.StartsWith($"127.0.0.1:{port} ", StringComparison.Ordinal));
                Assert.Contains(" 256.0 ", row, StringComparison.Ordinal); // the whole 256 MiB arena is free
                Assert.Contains("65536", row, StringComparison.Ordinal);
            }

            Assert.Contains("2 node(s) serving, 512.0 MiB free of 512.0 MiB", stats.Stdout, StringComparison.Ordinal);
        }

        // Ctrl+C on the second node, SIGTERM on the first: both leave through CoordinatedShutdown and close their arena.
        await second.Signal("INT");
        Assert.Equal(0, await second.WaitForExit(start));
        Assert.Contains("dmasg node stopped cleanly: arena fds open: 0", second.Stdout, StringComparison.Ordinal);
        await first.Signal("TERM");
        Assert.Equal(0, await first.WaitForExit(start));
        Assert.Contains("dmasg node stopped cleanly: arena fds open: 0", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("Exiting completed", second.Stderr + first.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_alone_runs_the_pipeline_on_a_cluster_of_its_own_and_leaks_nothing()
    {
        using NodeProcess demo = NodeProcess.Start("demo", "--frames", "3");
        Assert.Equal(0, await demo.WaitForExit(Dilated(TimeSpan.FromSeconds(60))));
        Assert.Equal(3, demo.Stdout.Split('\n').Count(l => l.Contains("hash ok", StringComparison.Ordinal)));
        Assert.Contains("frames verified: 3/3", demo.Stdout, StringComparison.Ordinal);
        Assert.Contains("pages leaked: 0", demo.Stdout, StringComparison.Ordinal);
    }
}
