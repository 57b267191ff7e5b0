using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Remote.Hosting;
using DmaSg.Actors.Cluster;
using DmaSg.Actors.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;
using Serilog.Extensions.Logging;

namespace DmaSg.Node.Hosting;

/// <summary>
/// A started node: the generic host running the ActorSystem (Akka.Hosting with Akka.Cluster.Hosting), logging
/// through Serilog to stderr (stdout stays for the verb's own output). Ctrl+C or SIGTERM stop the host, which
/// runs CoordinatedShutdown: leave the cluster, stop every actor (buffers give their pages back), close the arena.
/// </summary>
public sealed class NodeHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly SerilogLoggerFactory _loggers;

    private NodeHost(IHost host, SerilogLoggerFactory loggers, Config config, NodeMode mode)
    {
        _host = host;
        _loggers = loggers;
        Config = config;
        Mode = mode;
    }

    public Config Config { get; }

    public NodeMode Mode { get; }

    public ActorSystem System => _host.Services.GetRequiredService<ActorSystem>();

    public Akka.Cluster.Cluster Cluster => Akka.Cluster.Cluster.Get(System);

    public Microsoft.Extensions.Logging.ILogger Logger => _loggers.CreateLogger("dmasg");

    /// <summary>Builds and starts the host; the node joins its seeds (or itself, alone).</summary>
    public static async Task<NodeHost> StartAsync(Config config, NodeMode mode)
    {
        ArgumentNullException.ThrowIfNull(config);

        // stdout carries the verb's own output only (the verb holds the real stdout writer): anything else that
        // writes to Console.Out, Akka's built-in logger while the ActorSystem shuts down, goes to stderr with the logs.
        Console.SetOut(Console.Error);
        LogEventLevel level = config.GetString("akka.loglevel", "INFO").ToUpperInvariant() switch
        {
            "DEBUG" => LogEventLevel.Debug,
            "WARNING" => LogEventLevel.Warning,
            "ERROR" => LogEventLevel.Error,
            _ => LogEventLevel.Information,
        };
        var serilog = new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .WriteTo.Console(standardErrorFromLevel: LogEventLevel.Verbose, outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}")
            .CreateLogger();
        var loggers = new SerilogLoggerFactory(serilog, dispose: true);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new SerilogLoggerProvider(serilog));
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.AddAkka(NodeConfig.SystemName, (akka, _) =>
        {
            akka.AddHocon(config, HoconAddMode.Prepend);
            akka.ConfigureLoggers(setup =>
            {
                setup.LogLevel = level switch
                {
                    LogEventLevel.Debug => Akka.Event.LogLevel.DebugLevel,
                    LogEventLevel.Warning => Akka.Event.LogLevel.WarningLevel,
                    LogEventLevel.Error => Akka.Event.LogLevel.ErrorLevel,
                    _ => Akka.Event.LogLevel.InfoLevel,
                };
                setup.ClearLoggers();
                setup.AddLoggerFactory(loggers);
            });
            akka.WithRemoting(new RemoteOptions { HostName = NodeConfig.Hostname(config), Port = NodeConfig.Port(config) });
            akka.WithClustering(new ClusterOptions
            {
                SeedNodes = NodeConfig.Seeds(config),
                Roles = NodeConfig.Roles(config),
                SplitBrainResolver = new KeepMajorityOption(),
            });
            bool serve = mode != NodeMode.Client;
            if (serve)
            {
                akka.WithDmaSg();
            }

            akka.WithDmaSgCluster(serve);
        });

        IHost host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        var node = new NodeHost(host, loggers, config, mode);
        if (mode == NodeMode.Alone)
        {
            await node.Cluster.JoinAsync(node.Cluster.SelfAddress).ConfigureAwait(false);
        }

        return node;
    }

    /// <summary>Completes when this node is Up; false after <paramref name="timeout"/> (no seed answered) or when it stopped.</summary>
    public async Task<bool> WaitUpAsync(TimeSpan timeout)
    {
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Cluster.RegisterOnMemberUp(() => up.TrySetResult());
        Task done = await Task.WhenAny(up.Task, Task.Delay(timeout), System.WhenTerminated).ConfigureAwait(false);
        return done == up.Task;
    }

    /// <summary>Completes when Ctrl+C or SIGTERM stops the host, or when the ActorSystem terminates on its own (downed).</summary>
    public Task WaitForShutdownAsync() => _host.WaitForShutdownAsync();

    /// <summary>Stops the host: CoordinatedShutdown leaves the cluster and terminates the ActorSystem.</summary>
    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync().ConfigureAwait(false);
        await System.WhenTerminated.ConfigureAwait(false);
        _host.Dispose();
        _loggers.Dispose();
    }
}
