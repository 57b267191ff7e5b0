using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Quotas;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Allocator;

// Per-holder page quotas: checked before pages are taken, charged while the buffer lives.
public sealed partial class AllocatorActor
{
    private QuotaBook? _quotas;

    private QuotaBook Quotas => _quotas ??= new QuotaBook(Runtime.Settings.QuotaDefaultPages);

    /// <summary>
    /// QuotaExceeded (before any page is taken) when the allocation would put its payer over quota; returns the
    /// payer. Bad sizes and directions fail here as they would in the allocation.
    /// </summary>
    private IActorRef CheckQuota(Allocate m)
    {
        IActorRef payer = ChargeTarget(m.Holder);
        m.Direction.ThrowIfInvalidForMapping();
        Quotas.Check(payer, Sizes.PageCount(m.Size, _arena.PageSize));
        return payer;
    }

    private void ChargeQuota(IActorRef buffer, IActorRef payer, int pages)
    {
        if (Quotas.Charge(buffer, payer, pages))
        {
            // Its death ends its accounting. Never unwatched: a holder may be one of our own children.
            Context.Watch(payer);
        }
    }

    private void UnchargeQuota(IActorRef buffer) => _quotas?.Uncharge(buffer);

    private HolderQuota OnSetQuota(SetQuota m)
    {
        ValidateHolder(m.Holder);
        if (Quotas.SetLimit(m.Holder, m.LimitPages))
        {
            Context.Watch(m.Holder);
        }

        return Quotas.Get(m.Holder);
    }
}
