using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Hosting.Logging;
using Microsoft.Extensions.Logging;

namespace DmaSg.Actors.Hosting;

/// <summary>
/// Akka logging (and so every DmaSg actor's log) routed to a Microsoft.Extensions.Logging factory, e.g. one built
/// with Serilog.Extensions.Logging, for an ActorSystem created without Akka.Hosting. (With Hosting, use
/// <c>builder.ConfigureLoggers(s => { s.ClearLoggers(); s.AddLoggerFactory(factory); })</c>.)
/// </summary>
public static class DmaSgLogging
{
    /// <summary>The akka.loggers setting that sends log events to the <see cref="LoggerFactorySetup"/> factory.</summary>
    public static Config LoggerConfig(string level = "INFO") => ConfigurationFactory.ParseString($$"""
        akka {
          loggers = ["Akka.Hosting.Logging.LoggerFactoryLogger, Akka.Hosting"]
          loglevel = {{level}}
        }
        """);

    /// <summary>An ActorSystemSetup whose logs go to <paramref name="factory"/>; <paramref name="config"/> is the rest of the configuration.</summary>
    public static ActorSystemSetup Setup(ILoggerFactory factory, Config? config = null, string level = "INFO")
    {
        ArgumentNullException.ThrowIfNull(factory);
        Config all = config is null ? LoggerConfig(level) : LoggerConfig(level).WithFallback(config);
        return BootstrapSetup.Create().WithConfig(all).And(new LoggerFactorySetup(factory));
    }
}
