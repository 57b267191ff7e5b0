using DmaSg.Node.Hosting;

namespace DmaSg.Cluster.Tests.Node;

/// <summary>node.conf, then --config FILE, then the environment, then the arguments.</summary>
public sealed class NodeConfigTests
{
    private static readonly Dictionary<string, string> NoEnv = [];

    [Fact]
    public void The_embedded_default_is_a_one_node_cluster_on_loopback_with_keep_majority()
    {
        var c = NodeConfig.Build(NodeOptions.Parse([], NoEnv), NodeMode.Serve);
        Assert.Equal("127.0.0.1", NodeConfig.Hostname(c));
        Assert.Equal(4053, NodeConfig.Port(c));
        Assert.Equal(["akka.tcp://dmasg@127.0.0.1:4053"], NodeConfig.Seeds(c));
        Assert.Equal(["dmasg"], NodeConfig.Roles(c));
        Assert.Equal("keep-majority", c.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal(TimeSpan.FromSeconds(7), c.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
    }

    [Fact]
    public void A_file_overrides_node_conf_the_environment_overrides_the_file_and_arguments_override_both()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "akka.remote.dot-netty.tcp { port = 5000, hostname = \"10.1.1.1\" }\ndmasg.arena-size = 64 MiB\n");
            var env = new Dictionary<string, string> { ["DMASG_CONFIG"] = file, ["DMASG_PORT"] = "5001", ["DMASG_SEEDS"] = "h1:1, h2:2" };

            var fromEnv = NodeConfig.Build(NodeOptions.Parse([], env), NodeMode.Serve);
            Assert.Equal(5001, NodeConfig.Port(fromEnv));
            Assert.Equal("10.1.1.1", NodeConfig.Hostname(fromEnv));
            Assert.Equal(64L << 20, fromEnv.GetByteSize("dmasg.arena-size"));
            Assert.Equal(["akka.tcp://dmasg@h1:1", "akka.tcp://dmasg@h2:2"], NodeConfig.Seeds(fromEnv));

            var fromArgs = NodeConfig.Build(
                NodeOptions.Parse(["--port", "5002", "--hostname", "127.0.0.2", "--seed", "akka.tcp://dmasg@h3:3", "--role", "a", "--role", "b"], env),
                NodeMode.Serve);
            Assert.Equal(5002, NodeConfig.Port(fromArgs));
            Assert.Equal("127.0.0.2", NodeConfig.Hostname(fromArgs));
            Assert.Equal(["akka.tcp://dmasg@h3:3"], NodeConfig.Seeds(fromArgs));
            Assert.Equal(["a", "b"], NodeConfig.Roles(fromArgs));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Clients_take_a_free_port_and_the_client_role_and_a_lone_demo_seeds_nothing()
    {
        var client = NodeConfig.Build(NodeOptions.Parse(["--seed", "127.0.0.1:4053"], NoEnv), NodeMode.Client);
        Assert.Equal(0, NodeConfig.Port(client));
        Assert.Equal(["client"], NodeConfig.Roles(client));
        var alone = NodeConfig.Build(NodeOptions.Parse([], NoEnv), NodeMode.Alone);
        Assert.Empty(NodeConfig.Seeds(alone));
        Assert.Equal(0, NodeConfig.Port(alone));
    }

    [Theory]
    [InlineData("--port", "70000")]
    [InlineData("--port", "x")]
    [InlineData("--seed", "nohost")]
    [InlineData("--frames", "3")]
    [InlineData("stray", "x")]
    [InlineData("--config", "/nonexistent/dmasg.conf")]
    public void Bad_arguments_are_usage_errors(string flag, string value) =>
        Assert.Throws<UsageException>(() => NodeConfig.Build(NodeOptions.Parse([flag, value], NoEnv), NodeMode.Serve));
}
