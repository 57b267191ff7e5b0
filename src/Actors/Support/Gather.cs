using Akka.Actor;
using DmaSg.Actors.Protocol;

namespace DmaSg.Actors.Support;

/// <summary>
/// Scatter/gather of <see cref="Inspect"/>: asks each target and calls back with the replies of those that
/// answered; a target that dies first is left out (DeathWatch), so the gather always completes.
/// </summary>
internal static class Gather
{
    public static void Start(IUntypedActorContext context, IReadOnlyCollection<IActorRef> targets, TimeSpan timeout,
        Action<IReadOnlyList<IInspectReply>> complete)
    {
        if (targets.Count == 0)
        {
            complete([]);
            return;
        }

        context.ActorOf(ActorProps.Of(() => new GatherActor(targets, timeout, complete)));
    }

    private sealed class GatherActor(IReadOnlyCollection<IActorRef> targets, TimeSpan timeout,
        Action<IReadOnlyList<IInspectReply>> complete) : UntypedActor
    {
        private readonly HashSet<IActorRef> _pending = new(targets);
        private readonly List<IInspectReply> _replies = [];

        protected override void PreStart()
        {
            foreach (IActorRef target in _pending)
            {
                Context.Watch(target);
                target.Tell(Inspect.Instance, Self);
            }

            Context.SetReceiveTimeout(timeout);
        }

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case IInspectReply reply when _pending.Remove(reply.Subject):
                    _replies.Add(reply);
                    break;
                case DmaSgFailure when _pending.Remove(Sender):
                    break;
                case Terminated t:
                    _pending.Remove(t.ActorRef);
                    break;
                case ReceiveTimeout:
                    _pending.Clear();
                    break;
                default:
                    return;
            }

            if (_pending.Count == 0)
            {
                complete(_replies);
                Context.Stop(Self);
            }
        }
    }
}
