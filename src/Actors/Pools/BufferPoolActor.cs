using Akka.Actor;
using Akka.Event;
using DmaSg.Actors.Buffers;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Memory;

namespace DmaSg.Actors.Pools;

/// <summary>
/// One GstBufferPool: a set of same-size buffers lent out and taken back. The pool is the holder of one ref on
/// each of its buffers (ordinary <see cref="BufferActor"/>s, children of the allocator); a borrower uses the
/// buffer actor directly and gives it back with <see cref="ReleaseBuffer"/>, or by dying (DeathWatch). The free
/// list, the leases and the waiters live in this actor's mailbox: no locks. Deactivated, it drops every buffer
/// it holds as each comes home, then stops; if it stops any other way, the buffers see their holder die and
/// free themselves. A child of the allocator, whose supervisor stops (never restarts) it.
/// </summary>
public sealed partial class BufferPoolActor : DmaSgActor, IWithTimers
{
    private readonly long _id;
    private readonly string _name;
    private readonly PoolConfig _config;
    private readonly IActorRef _owner;
    private readonly IActorRef _allocator;
    private readonly Dictionary<IActorRef, PoolBuffer> _buffers = [];
    private IActorRef? _creator;
    private int _allocating;
    private bool _active = true;
    private long _allocations;
    private long _recycles;
    private long _dropped;
    private long _timeouts;

    private BufferPoolActor(DmaSgRuntime runtime, long id, PoolConfig config, IActorRef owner, IActorRef creator, IActorRef allocator)
        : base(runtime)
    {
        _id = id;
        _config = config;
        _name = config.Name ?? $"pool#{id}";
        _owner = owner;
        _creator = creator;
        _allocator = allocator;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    internal static Props Props(DmaSgRuntime runtime, long id, PoolConfig config, IActorRef owner, IActorRef creator, IActorRef allocator) =>
        ActorProps.Of(() => new BufferPoolActor(runtime, id, config, owner, creator, allocator));

    protected override void PreStart()
    {
        Context.Watch(_owner);
        for (int i = 0; i < _config.MinBuffers; i++)
        {
            Allocate();
        }

        AnswerCreatedWhenReady();
    }

    protected override void PostStop()
    {
        // Normally empty by now. Otherwise the buffers watch this holder and drop its refs themselves.
        if (_buffers.Count > 0)
        {
            Log.Warning("{0} stopped holding {1} buffers; they free themselves when they see it gone", _name, _buffers.Count);
        }

        _creator?.Tell(DmaSgFailure.Released(_name));
        FailAllWaiters(DmaSgFailure.Released(_name));
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case AcquireBuffer m:
                RespondOnFailure(() => OnAcquire(m, Sender));
                break;
            case ReleaseBuffer m:
                Respond(() => OnRelease(m));
                break;
            case DeactivatePool:
                Respond(() =>
                {
                    Deactivate("deactivated");
                    return Done.Instance;
                });
                break;
            case Inspect:
                Sender.Tell(BuildInfo());
                break;
            case BufferCreated m when Sender.Equals(_allocator):
                OnAllocated(m);
                break;
            case DmaSgFailure f when Sender.Equals(_allocator):
                OnAllocationFailed(f);
                break;
            case BufferRecycled m:
                OnRecycled(Sender, m.Reusable);
                break;
            case DmaSgFailure:
                // A buffer refused RecycleBuffer (it is gone) or Put: treat it as not reusable.
                OnRecycled(Sender, reusable: false);
                break;
            case RefDropped:
                // Our Put of a buffer we let go.
                break;
            case AcquireTimedOut m:
                OnAcquireTimedOut(m.WaiterId);
                break;
            case Terminated t:
                OnTerminated(t.ActorRef);
                break;
            default:
                NotUnderstood(message);
                break;
        }
    }

    private PoolInfo BuildInfo() => new(
        Self,
        _id,
        _name,
        _config,
        _active,
        _free.Count,
        _outstanding,
        _returning,
        _allocating,
        _waiters.Count,
        _buffers.Values.Where(b => b.State == PoolBufferState.Lent)
            .Select(b => new PoolLease(b.Info.Buffer, b.Info.Id, b.Holder!))
            .OrderBy(l => l.BufferId)
            .ToArray(),
        _recycles,
        _allocations,
        _dropped,
        _timeouts);

    /// <summary>The pool may hold one more buffer (counting those on the way).</summary>
    private bool CanAllocate => _config.MaxBuffers == 0 || _buffers.Count + _allocating < _config.MaxBuffers;

    private void Allocate()
    {
        _allocating++;
        _allocator.Tell(new Allocate(_config.Size, _config.Direction, _config.Device, Self), Self);
    }

    private void OnAllocated(BufferCreated created)
    {
        _allocating--;
        _allocations++;
        var buffer = new PoolBuffer(created);
        _buffers[created.Buffer] = buffer;
        Context.Watch(created.Buffer);
        Dprintk(2, "{0}: allocated {1} ({2} pages)", _name, created.Name, created.NumPages);
        if (!_active)
        {
            Drop(buffer);
            StopWhenEmpty();
            return;
        }

        PushFree(buffer);
        AnswerCreatedWhenReady();
        Serve();
    }

    private void OnAllocationFailed(DmaSgFailure failure)
    {
        _allocating--;
        if (_creator is { } creator)
        {
            // Preallocation failed: the pool never existed for its creator; let go of what was made.
            _creator = null;
            creator.Tell(failure);
            Log.Warning("{0}: preallocating {1} buffers failed: {2}", _name, _config.MinBuffers, failure);
            Deactivate("creation failed");
            return;
        }

        if (!_active)
        {
            StopWhenEmpty();
            return;
        }

        // The newest waiter that no buffer is on its way for hears why.
        if (_waiters.Count > Pending && _waiters.Last is { } last)
        {
            RemoveWaiter(last);
            last.Value.ReplyTo.Tell(failure);
        }

        Dprintk(1, "{0}: allocation failed: {1}", _name, failure);
    }

    private void AnswerCreatedWhenReady()
    {
        if (_creator is { } creator && _allocating == 0)
        {
            _creator = null;
            creator.Tell(new PoolCreated(Self, _id, _name, _config));
            Dprintk(1, "{0}: {1} buffers of {2} bytes ready (max {3})", _name, _buffers.Count, _config.Size, _config.MaxBuffers);
        }
    }

    /// <summary>Lets go of a buffer: the pool's ref is dropped; the buffer frees itself unless others still use it.</summary>
    private void Drop(PoolBuffer buffer)
    {
        _buffers.Remove(buffer.Info.Buffer);
        buffer.Info.Buffer.Tell(new Put(Self), Self);
    }

    /// <summary>gst_buffer_pool_set_active(FALSE): waiters fail, free buffers go now, lent ones when they come back.</summary>
    private void Deactivate(string why)
    {
        if (!_active)
        {
            return;
        }

        _active = false;
        FailAllWaiters(new DmaSgFailure(DmaSgError.UseAfterRelease, $"{_name} was {why}"));
        while (PopFree() is { } buffer)
        {
            Drop(buffer);
        }

        Dprintk(1, "{0}: {1}; {2} buffers still lent out", _name, why, _outstanding + _returning);
        StopWhenEmpty();
    }

    private void StopWhenEmpty()
    {
        if (!_active && _buffers.Count == 0 && _allocating == 0)
        {
            Context.Stop(Self);
        }
    }

    private void OnTerminated(IActorRef actor)
    {
        if (_buffers.TryGetValue(actor, out PoolBuffer? buffer))
        {
            // A buffer stopped under us (not by our Put): forget it wherever it was.
            Log.Warning("{0}: {1} stopped while the pool held it ({2})", _name, buffer.Info.Name, buffer.State);
            Forget(buffer);
            Replenish();
            StopWhenEmpty();
        }

        if (_watchedHolders.Remove(actor))
        {
            OnHolderTerminated(actor);
        }

        if (actor.Equals(_owner))
        {
            Deactivate("deactivated: its owner died");
        }
    }

    /// <summary>Removes a buffer from every count, whatever its state (no Put: it is gone).</summary>
    private void Forget(PoolBuffer buffer)
    {
        _buffers.Remove(buffer.Info.Buffer);
        switch (buffer.State)
        {
            case PoolBufferState.Free:
                _free.Remove(buffer);
                break;
            case PoolBufferState.Lent:
                _outstanding--;
                _lost.Add((buffer.Info.Buffer, buffer.Holder!));
                break;
            case PoolBufferState.Returning:
                _returning--;
                break;
        }
    }

    private enum PoolBufferState
    {
        Free,
        Lent,
        Returning,
    }

    private sealed class PoolBuffer(BufferCreated info)
    {
        public BufferCreated Info { get; } = info;

        public PoolBufferState State { get; set; }

        /// <summary>The borrower while lent.</summary>
        public IActorRef? Holder { get; set; }

        /// <summary>Lent at least once: the next acquire gets it as recycled.</summary>
        public bool LentBefore { get; set; }
    }

    private sealed record AcquireTimedOut(long WaiterId);
}
