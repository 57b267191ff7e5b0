using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;

namespace DmaSg.Actors.Facade;

/// <summary>
/// A buffer pool (GstBufferPool) owned by its client's holder. <see cref="AcquireAsync"/> lends a buffer until its
/// handle is disposed. Disposing the pool handle deactivates the pool: free buffers are freed at once, lent ones
/// when they come back, and then the pool is gone. Disposing twice is harmless.
/// <code>
/// await using PoolHandle pool = await dmasg.CreatePoolAsync(3 &lt;&lt; 20, DmaDirection.FromDevice, minBuffers: 4, maxBuffers: 8);
/// await using PooledBufferHandle frame = await pool.AcquireAsync();
/// </code>
/// </summary>
public sealed class PoolHandle : Handle
{
    internal PoolHandle(DmaSgClient client, PoolCreated created)
        : base(client, created.Pool)
    {
        Id = created.Id;
        Name = created.Name;
        Config = created.Config;
    }

    public IActorRef Pool => Target;

    public long Id { get; }

    public string Name { get; }

    public PoolConfig Config { get; }

    /// <summary>
    /// gst_buffer_pool_acquire_buffer: a free buffer, a new one while below max, or (when-empty = wait) the next
    /// one released. WouldBlock when none comes (fail policy, full queue, or acquire-timeout); UseAfterRelease
    /// when the pool is deactivated; OutOfMemory or QuotaExceeded when a new buffer cannot be made.
    /// </summary>
    /// <param name="borrower">
    /// The client the buffer is lent to (default: the pool's own): its holder's death gives the buffer back.
    /// </param>
    public async Task<PooledBufferHandle> AcquireAsync(DmaSgClient? borrower = null)
    {
        ThrowIfDisposed();
        borrower ??= Client;

        // The pool itself answers WouldBlock after acquire-timeout; the ask only guards against a silent actor.
        TimeSpan timeout = borrower.Settings.AskTimeout + (Config.WhenEmpty == PoolEmptyPolicy.Wait ? Config.AcquireTimeout : TimeSpan.Zero);
        BufferAcquired acquired = await DmaSgAsk.Request<BufferAcquired>(borrower.System, Target, new AcquireBuffer(borrower.Holder), timeout)
            .ConfigureAwait(false);
        return new PooledBufferHandle(borrower, acquired, Target);
    }

    /// <summary>Free, lent and returning buffers, waiters, leases and counters.</summary>
    public Task<PoolInfo> InspectAsync() => Ask<PoolInfo>(Inspect.Instance);

    /// <summary>gst_buffer_pool_set_active(FALSE); the same as disposing.</summary>
    public ValueTask DeactivateAsync() => DisposeAsync();

    private protected override IDmaSgRequest ReleaseRequest() => DeactivatePool.Instance;
}
