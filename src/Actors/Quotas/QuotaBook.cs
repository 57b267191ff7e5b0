using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Memory;

namespace DmaSg.Actors.Quotas;

/// <summary>
/// Per-holder page accounting, owned by the allocator (single-threaded, no locks). A buffer's pages are
/// charged to the holder that allocated it until its pages come home; sharing the buffer (AddRef, an export, an
/// mmap by someone else) moves nothing. When a holder dies its entry goes: buffers it allocated that others keep
/// alive are then charged to no one. A holder is tracked while it has a charge or an override.
/// </summary>
internal sealed class QuotaBook(long defaultPages)
{
    private readonly Dictionary<IActorRef, Account> _accounts = [];
    private readonly Dictionary<IActorRef, ChargeEntry> _charges = [];

    /// <summary>dmasg.quota.default-pages: the limit of a holder without an override (0 = unlimited).</summary>
    public long DefaultPages { get; } = defaultPages;

    /// <summary>QuotaExceeded when <paramref name="holder"/> may not take <paramref name="pages"/> more pages. Changes nothing.</summary>
    public void Check(IActorRef holder, long pages)
    {
        long limit = LimitOf(holder, out Account? account);
        long used = account?.UsedPages ?? 0;
        if (limit > 0 && pages > limit - used)
        {
            throw new DmaSgException(DmaSgError.QuotaExceeded,
                $"{holder.Path} would hold {used + pages} pages, over its quota of {limit} ({used} in use, {pages} asked)");
        }
    }

    /// <summary>Charges <paramref name="pages"/> of <paramref name="buffer"/> to <paramref name="holder"/>. True when the holder is newly tracked.</summary>
    public bool Charge(IActorRef buffer, IActorRef holder, int pages)
    {
        bool added = !_accounts.TryGetValue(holder, out Account? account);
        if (added)
        {
            account = new Account();
            _accounts[holder] = account;
        }

        account!.UsedPages += pages;
        account.Buffers++;
        _charges[buffer] = new ChargeEntry(holder, account, pages);
        return added;
    }

    /// <summary>The pages of <paramref name="buffer"/> came home: its charge ends. Idempotent.</summary>
    public void Uncharge(IActorRef buffer)
    {
        if (!_charges.Remove(buffer, out ChargeEntry? charge))
        {
            return;
        }

        // The account may be gone (the holder died) or replaced since: then this charge is already forgotten.
        if (_accounts.TryGetValue(charge.Holder, out Account? account) && ReferenceEquals(account, charge.Account))
        {
            account.UsedPages -= charge.Pages;
            account.Buffers--;
            if (account.Buffers == 0 && account.Limit is null)
            {
                _accounts.Remove(charge.Holder);
            }
        }
    }

    /// <summary>Sets or clears an override; InvalidArgument for a negative limit. True when the holder is newly tracked.</summary>
    public bool SetLimit(IActorRef holder, long? limitPages)
    {
        if (limitPages < 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"quota {limitPages} pages is negative");
        }

        bool added = !_accounts.TryGetValue(holder, out Account? account);
        if (added)
        {
            if (limitPages is null)
            {
                return false;
            }

            account = new Account();
            _accounts[holder] = account;
        }

        account!.Limit = limitPages;
        if (account.Buffers == 0 && account.Limit is null)
        {
            _accounts.Remove(holder);
        }

        return added;
    }

    /// <summary>A holder died: its accounting and override go. Idempotent.</summary>
    public bool Forget(IActorRef holder) => _accounts.Remove(holder);

    public HolderQuota Get(IActorRef holder)
    {
        long limit = LimitOf(holder, out Account? account);
        return new HolderQuota(holder, account?.UsedPages ?? 0, limit, account?.Limit is not null, account?.Buffers ?? 0);
    }

    /// <summary>Every tracked holder, most pages first.</summary>
    public HolderQuota[] All() =>
        _accounts.Keys.Select(Get).OrderByDescending(q => q.UsedPages).ThenBy(q => q.Holder.Path.ToString(), StringComparer.Ordinal).ToArray();

    private long LimitOf(IActorRef holder, out Account? account)
    {
        _accounts.TryGetValue(holder, out account);
        return account?.Limit ?? DefaultPages;
    }

    private sealed class Account
    {
        public long UsedPages { get; set; }

        public int Buffers { get; set; }

        /// <summary>The override; null: the default.</summary>
        public long? Limit { get; set; }
    }

    private sealed record ChargeEntry(IActorRef Holder, Account Account, int Pages);
}
