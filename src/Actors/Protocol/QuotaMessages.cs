using Akka.Actor;

namespace DmaSg.Actors.Protocol;

/// <summary>
/// Sets the page quota of <paramref name="Holder"/> (allocator): <paramref name="LimitPages"/> arena pages at
/// most, 0 = unlimited, null = back to <c>dmasg.quota.default-pages</c>. A limit below the holder's current use
/// keeps its buffers and refuses new allocations until use drops. The override lasts until the holder dies.
/// Reply: <see cref="HolderQuota"/>; InvalidArgument for a negative limit or a holder DeathWatch cannot see.
/// </summary>
public sealed record SetQuota(IActorRef Holder, long? LimitPages) : IDmaSgRequest;

/// <summary>The quota and the use of <paramref name="Holder"/> (allocator). Reply: <see cref="HolderQuota"/>.</summary>
public sealed record GetQuota(IActorRef Holder) : IDmaSgRequest;

/// <summary>
/// A holder's page accounting. <see cref="UsedPages"/> counts the arena pages of live buffers the holder
/// allocated (through a pool: the pool's owner); <see cref="LimitPages"/> 0 means unlimited.
/// </summary>
/// <param name="IsOverride">True when set by <see cref="SetQuota"/>, false when it is the configured default.</param>
/// <param name="Buffers">Live buffers charged to the holder.</param>
public sealed record HolderQuota(IActorRef Holder, long UsedPages, long LimitPages, bool IsOverride, int Buffers) : IDmaSgReply
{
    public bool IsUnlimited => LimitPages == 0;

    /// <summary>Pages the holder may still allocate (long.MaxValue when unlimited; 0 when over its limit).</summary>
    public long AvailablePages => IsUnlimited ? long.MaxValue : Math.Max(0, LimitPages - UsedPages);
}
