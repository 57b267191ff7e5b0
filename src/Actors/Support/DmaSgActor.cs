using Akka.Actor;
using Akka.Event;
using DmaSg.Actors.Protocol;
using DmaSg.Memory;

namespace DmaSg.Actors.Support;

/// <summary>
/// What the five DmaSg actors share: exactly-one-reply request handling, holder validation, the
/// seed's dprintk, and a supervisor that stops (never restarts) children that own memory.
/// </summary>
public abstract class DmaSgActor : UntypedActor
{
    // A child that owns memory must never come back with empty state: stop it, PostStop cleans up.
    private static readonly SupervisorStrategy StopChildren = new OneForOneStrategy(Decider.From(Directive.Stop));

    private ILoggingAdapter? _log;

    private protected DmaSgActor(DmaSgRuntime runtime)
    {
        Runtime = runtime;
    }

    private protected DmaSgRuntime Runtime { get; }

    private protected DmaSgCounters Counters => Runtime.Counters;

    // Made on first use: GetLogger formats the actor's path and most buffer actors never log.
    protected ILoggingAdapter Log => _log ??= Context.GetLogger();

    protected override SupervisorStrategy SupervisorStrategy() => StopChildren;

    /// <summary>
    /// Runs a request handler and sends exactly one reply to the sender: its result, or the typed failure
    /// it threw. Anything else is a bug: the sender still gets a reply (Io), then the exception goes to the
    /// supervisor, which stops this actor so PostStop releases what it owns.
    /// </summary>
    private protected void Respond(Func<IDmaSgReply> handler)
    {
        IActorRef sender = Sender;
        IDmaSgReply reply;
        try
        {
            reply = handler();
        }
        catch (DmaSgException e)
        {
            reply = DmaSgFailure.From(e);
            Dprintk(1, "{0}: {1}", Self.Path.Name, e.Message);
        }
        catch (Exception e)
        {
            sender.Tell(new DmaSgFailure(DmaSgError.Io, $"internal error in {Self.Path.Name}: {e.Message}"));
            throw;
        }

        sender.Tell(reply);
    }

    /// <summary>
    /// For a handler whose success is answered by someone else (a child, later): replies only when it throws,
    /// so the sender still gets exactly one reply.
    /// </summary>
    private protected void RespondOnFailure(Action handler)
    {
        IActorRef sender = Sender;
        try
        {
            handler();
        }
        catch (DmaSgException e)
        {
            sender.Tell(DmaSgFailure.From(e));
        }
        catch (Exception e)
        {
            sender.Tell(new DmaSgFailure(DmaSgError.Io, $"internal error in {Self.Path.Name}: {e.Message}"));
            throw;
        }
    }

    /// <summary>Answers a request this actor does not understand (every request gets a reply).</summary>
    private protected void NotUnderstood(object message)
    {
        if (message is IDmaSgRequest)
        {
            Sender.Tell(new DmaSgFailure(DmaSgError.InvalidArgument, $"{message.GetType().Name} is not understood by {Self.Path.Name}"));
        }
        else
        {
            Unhandled(message);
        }
    }

    /// <summary>A holder must be an actor DeathWatch can see.</summary>
    private protected static void ValidateHolder(IActorRef? holder)
    {
        if (holder is null || holder.IsNobody() || holder is DeadLetterActorRef)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, "a ref needs a holder actor that DeathWatch can watch");
        }
    }

    // Fixed-arity forms: the hot paths (alloc, free) call these, and with debugging off they must not
    // allocate a params array and box the arguments for nothing.
    private protected void Dprintk<T1>(int level, string format, T1 a1)
    {
        if (level <= Runtime.Settings.DebugLevel)
        {
            Log.Debug(format, a1);
        }
    }

    private protected void Dprintk<T1, T2>(int level, string format, T1 a1, T2 a2)
    {
        if (level <= Runtime.Settings.DebugLevel)
        {
            Log.Debug(format, a1, a2);
        }
    }

    private protected void Dprintk<T1, T2, T3>(int level, string format, T1 a1, T2 a2, T3 a3)
    {
        if (level <= Runtime.Settings.DebugLevel)
        {
            Log.Debug(format, a1, a2, a3);
        }
    }

    /// <summary>The seed's dprintk(level, ...): logged at Debug when level &lt;= dmasg.debug-level.</summary>
    private protected void Dprintk(int level, string format, params object[] args)
    {
        if (level <= Runtime.Settings.DebugLevel)
        {
            Log.Debug(format, args);
        }
    }
}
