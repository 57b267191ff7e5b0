using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Hosting;
using DmaSg.Memory.Dma;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Extensions.Logging;

namespace DmaSg.Actors.Tests.Hosting;

/// <summary>Akka logging bridged to Serilog through Microsoft.Extensions.Logging (Akka.Logger.Serilog is not available).</summary>
public class DmaSgLoggingTests
{
    [Fact]
    public async Task Actor_logs_and_seed_debug_levels_reach_serilog()
    {
        var sink = new CollectingSink();
        using Logger logger = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(sink).CreateLogger();
        using var factory = new SerilogLoggerFactory(logger);
        Config config = ConfigurationFactory.ParseString("dmasg { arena-size = 2 MiB, debug-level = 1 }");

        using ActorSystem system = ActorSystem.Create("logging-test", DmaSgLogging.Setup(factory, config, level: "DEBUG"));
        try
        {
            var dmasg = BufferManager.Get(system);
            await using (await dmasg.AllocateAsync(8192, DmaDirection.ToDevice))
            {
            }

            await AwaitAsync(() => sink.Events.Any(e => e.Level == LogEventLevel.Information && e.RenderMessage().Contains("dmasg allocator up", StringComparison.Ordinal)));

            // debug-level 1: the seed's dprintk(1, ...) for an allocation is logged at Debug.
            await AwaitAsync(() => sink.Events.Any(e => e.Level == LogEventLevel.Debug && e.RenderMessage().Contains("allocated 2 pages", StringComparison.Ordinal)));
        }
        finally
        {
            await system.Terminate();
        }
    }

    private static async Task AwaitAsync(Func<bool> condition)
    {
        // Logging is asynchronous: poll the collected events, bounded.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        while (!condition())
        {
            Assert.True(await timer.WaitForNextTickAsync(cts.Token).AsTask().ContinueWith(t => !t.IsCanceled, TaskScheduler.Default), "the log event did not arrive");
        }
    }

    private sealed class CollectingSink : ILogEventSink
    {
        public ConcurrentQueue<LogEvent> Events { get; } = new();

        public void Emit(LogEvent logEvent) => Events.Enqueue(logEvent);
    }
}
