using Akka.Actor;
using Akka.Configuration;

namespace DmaSg.Properties.Tests.Support;

/// <summary>
/// One ActorSystem for the whole assembly: starting one costs more than a hundred short cases, and every case gets
/// its own allocator (arena, counters) under it anyway. Logging is off unless DMASG_PROPS_LOGLEVEL says otherwise:
/// killed actors and dying holders are the point here, and their warnings would drown the output.
/// </summary>
public static class PropsSystem
{
    private static readonly Lazy<ActorSystem> System = new(() => ActorSystem.Create("props", ConfigurationFactory.ParseString($"""
        akka.loglevel = {Environment.GetEnvironmentVariable("DMASG_PROPS_LOGLEVEL") ?? "OFF"}
        akka.stdout-loglevel = {Environment.GetEnvironmentVariable("DMASG_PROPS_LOGLEVEL") ?? "OFF"}
        akka.log-dead-letters = off
        akka.log-dead-letters-during-shutdown = off
        akka.actor.guardian-supervisor-strategy = "Akka.Actor.StoppingSupervisorStrategy"
        """)));

    public static ActorSystem Instance => System.Value;
}

/// <summary>A client: an actor whose only job is to be alive. Refs taken in its name die with it.</summary>
public sealed class HolderActor : UntypedActor
{
    protected override void OnReceive(object message)
    {
    }
}

/// <summary>Stops (or kills) an actor and completes when DeathWatch has seen it gone, even if it already was.</summary>
public sealed class Terminator(IActorRef target, StopMode mode, TaskCompletionSource done) : UntypedActor
{
    public static Task Stop(ActorSystem system, IActorRef target, StopMode mode)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ((ExtendedActorSystem)system).SystemActorOf(Props.Create(typeof(Terminator), target, mode, done));
        return done.Task;
    }

    protected override void PreStart()
    {
        Context.Watch(target);
        switch (mode)
        {
            case StopMode.PoisonPill:
                target.Tell(PoisonPill.Instance);
                break;
            case StopMode.Kill:
                target.Tell(Kill.Instance);
                break;
            default:
                Context.System.Stop(target);
                break;
        }
    }

    protected override void OnReceive(object message)
    {
        if (message is Terminated)
        {
            done.TrySetResult();
            Context.Stop(Self);
        }
    }
}

/// <summary>How an actor is made to stop: in mailbox order (PoisonPill), by failing (Kill, the supervisor stops it), or at once.</summary>
public enum StopMode
{
    PoisonPill,
    Kill,
    Stop,
}
