using Akka.Actor;
using DmaSg.Actors.Pools;
using DmaSg.Actors.Protocol;
using DmaSg.Memory;

namespace DmaSg.Actors.Allocator;

// Buffer pools (children of the allocator) and the messages the allocator learned with pools and quotas.
public sealed partial class AllocatorActor
{
    // Each pool and the owner its buffers are charged to.
    private readonly Dictionary<IActorRef, IActorRef> _pools = [];

    /// <summary>Pool and quota requests; false when the message is none of them.</summary>
    private bool ReceivePoolsAndQuotas(object message)
    {
        switch (message)
        {
            case CreatePool m:
                OnCreatePool(m);
                return true;
            case SetQuota m:
                Respond(() => OnSetQuota(m));
                return true;
            case GetQuota m:
                Respond(() =>
                {
                    ValidateHolder(m.Holder);
                    return Quotas.Get(m.Holder);
                });
                return true;
            default:
                return false;
        }
    }

    private void OnCreatePool(CreatePool m)
    {
        IActorRef replyTo = Sender;
        RespondOnFailure(() =>
        {
            ValidateHolder(m.Owner);
            if (m.Config is null)
            {
                throw new DmaSgException(DmaSgError.InvalidArgument, "no pool configuration");
            }

            m.Config.Validate();
            Runtime.Devices.Get(m.Config.Device);
            long id = Runtime.NextId();
            IActorRef pool = Context.ActorOf(BufferPoolActor.Props(Runtime, id, m.Config, m.Owner, replyTo, Self), $"pool-{id}");
            Context.Watch(pool);
            _pools[pool] = m.Owner;

            // The pool answers once its min buffers exist (or their allocation failed).
        });
    }

    /// <summary>Who pays for an allocation by <paramref name="holder"/>: a pool's owner, or the holder itself.</summary>
    private IActorRef ChargeTarget(IActorRef holder) => _pools.TryGetValue(holder, out IActorRef? owner) ? owner : holder;

    /// <summary>Any watched actor stopped: a buffer's charge ends, a pool or a holder is forgotten. Idempotent.</summary>
    private void OnWatchedTerminated(IActorRef actor)
    {
        UnchargeQuota(actor);
        _pools.Remove(actor);
        _quotas?.Forget(actor);
    }
}
