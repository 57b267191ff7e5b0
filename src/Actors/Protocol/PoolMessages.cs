using Akka.Actor;
using DmaSg.Memory;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Protocol;

/// <summary>What an acquire does when no buffer is free and the pool is at its maximum.</summary>
public enum PoolEmptyPolicy
{
    /// <summary>Queue the acquire (at most <see cref="PoolConfig.MaxWaiters"/>) until a release, or WouldBlock after the timeout.</summary>
    Wait,

    /// <summary>Answer WouldBlock at once (GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT).</summary>
    Fail,
}

/// <summary>
/// A buffer pool's configuration, as gst_buffer_pool_config_set_params: buffers of <see cref="Size"/> bytes for
/// <see cref="Device"/>, mapped <see cref="Direction"/>; <see cref="MinBuffers"/> made at creation, at most
/// <see cref="MaxBuffers"/> (0 = no limit). Defaults come from <c>dmasg.pools</c> (see <c>DmaSgSettings.Pools</c>).
/// </summary>
public sealed record PoolConfig
{
    /// <summary>Bytes per buffer (rounded up to pages). Required: the default 0 is refused.</summary>
    public long Size { get; init; }

    public DmaDirection Direction { get; init; } = DmaDirection.Bidirectional;

    /// <summary>A registered device name.</summary>
    public string Device { get; init; } = "default";

    /// <summary>Buffers allocated when the pool is created, and kept while it is active.</summary>
    public int MinBuffers { get; init; }

    /// <summary>Most buffers the pool holds at once (free, lent out, or being returned); 0 = no limit.</summary>
    public int MaxBuffers { get; init; } = 16;

    /// <summary>Clear a returned buffer before lending it again. Off: a recycled buffer keeps the last user's bytes.</summary>
    public bool ZeroOnRecycle { get; init; }

    public PoolEmptyPolicy WhenEmpty { get; init; } = PoolEmptyPolicy.Wait;

    /// <summary>How long a queued acquire waits before WouldBlock (<see cref="PoolEmptyPolicy.Wait"/> only).</summary>
    public TimeSpan AcquireTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Acquires that may wait at once; one more is answered WouldBlock.</summary>
    public int MaxWaiters { get; init; } = 64;

    /// <summary>Shown in logs and inspection; null: "pool#ID".</summary>
    public string? Name { get; init; }

    /// <summary>Throws InvalidArgument for a configuration a pool cannot run with.</summary>
    public void Validate()
    {
        if (Size <= 0)
        {
            throw Bad($"pool buffer size {Size} must be positive");
        }

        Direction.ThrowIfInvalidForMapping();
        if (string.IsNullOrEmpty(Device))
        {
            throw Bad("a pool needs a device name");
        }

        if (MinBuffers < 0 || MaxBuffers < 0)
        {
            throw Bad($"pool min-buffers {MinBuffers} and max-buffers {MaxBuffers} must not be negative");
        }

        if (MaxBuffers > 0 && MinBuffers > MaxBuffers)
        {
            throw Bad($"pool min-buffers {MinBuffers} is above max-buffers {MaxBuffers}");
        }

        if (!Enum.IsDefined(WhenEmpty))
        {
            throw Bad($"pool when-empty {WhenEmpty} is not wait or fail");
        }

        if (AcquireTimeout <= TimeSpan.Zero)
        {
            throw Bad($"pool acquire-timeout {AcquireTimeout} must be positive");
        }

        if (MaxWaiters < 0)
        {
            throw Bad($"pool max-waiters {MaxWaiters} must not be negative");
        }
    }

    private static DmaSgException Bad(string message) => new(DmaSgError.InvalidArgument, message);
}

/// <summary>
/// gst_buffer_pool_new + set_config + set_active(TRUE), sent to the allocator: a pool actor that allocates
/// <see cref="PoolConfig.MinBuffers"/> buffers before it answers. The pool lives until it is deactivated and
/// every lent buffer is back, or until <paramref name="Owner"/> dies (which deactivates it). Pages of its buffers
/// count against the owner's quota. Reply (from the pool): <see cref="PoolCreated"/>, or the allocation's failure
/// (nothing kept).
/// </summary>
public sealed record CreatePool(PoolConfig Config, IActorRef Owner) : IDmaSgRequest;

public sealed record PoolCreated(IActorRef Pool, long Id, string Name, PoolConfig Config) : IDmaSgReply;

/// <summary>
/// gst_buffer_pool_acquire_buffer: lends a buffer to <paramref name="Holder"/> until it sends
/// <see cref="ReleaseBuffer"/> or dies. The pool keeps the only ref; the holder uses the buffer actor directly.
/// Reply: <see cref="BufferAcquired"/>; WouldBlock when empty (policy Fail, queue full, or timed out);
/// UseAfterRelease when the pool is deactivated; the allocation's failure (OutOfMemory, QuotaExceeded) when a
/// new buffer could not be made.
/// </summary>
public sealed record AcquireBuffer(IActorRef Holder) : IDmaSgRequest;

/// <param name="Buffer">The buffer as the allocator made it (<see cref="BufferCreated.Buffer"/> is the actor).</param>
/// <param name="Recycled">True when the buffer was lent before (its bytes are the last user's unless zero-on-recycle).</param>
public sealed record BufferAcquired(BufferCreated Buffer, bool Recycled) : IDmaSgReply;

/// <summary>
/// gst_buffer_pool_release_buffer: gives a lent buffer back. A buffer that still has other users (an export,
/// an mmap) is not lent again: the pool drops its ref and the buffer lives until those go. Reply:
/// <see cref="Done"/>; InvalidArgument when <paramref name="Holder"/> did not acquire <paramref name="Buffer"/>.
/// </summary>
public sealed record ReleaseBuffer(IActorRef Buffer, IActorRef Holder) : IDmaSgRequest;

/// <summary>
/// gst_buffer_pool_set_active(FALSE): refuses new acquires (waiters get UseAfterRelease), frees the free
/// buffers now and each lent one when it comes back; then the pool stops. Idempotent. Reply: <see cref="Done"/>.
/// </summary>
public sealed record DeactivatePool : IDmaSgRequest
{
    public static readonly DeactivatePool Instance = new();
}

/// <summary>A buffer lent out and who has it.</summary>
public sealed record PoolLease(IActorRef Buffer, long BufferId, IActorRef Holder);

/// <summary>
/// A pool's state (answer to <see cref="Inspect"/>). Invariant: <see cref="Total"/> = <see cref="Free"/> +
/// <see cref="Outstanding"/> + <see cref="Returning"/> &lt;= max (when set), with <see cref="Allocating"/> on the way.
/// </summary>
/// <param name="Returning">Released buffers being checked (and cleared) before they are lent again.</param>
/// <param name="Recycles">Acquires answered with a buffer lent before.</param>
/// <param name="Allocations">Buffers the pool has allocated.</param>
/// <param name="Dropped">Released buffers not lent again because they still had other users.</param>
/// <param name="Timeouts">Acquires that waited in vain.</param>
public sealed record PoolInfo(
    IActorRef Subject,
    long Id,
    string Name,
    PoolConfig Config,
    bool IsActive,
    int Free,
    int Outstanding,
    int Returning,
    int Allocating,
    int Waiters,
    IReadOnlyList<PoolLease> Leases,
    long Recycles,
    long Allocations,
    long Dropped,
    long Timeouts) : IInspectReply
{
    public int Total => Free + Outstanding + Returning;
}
