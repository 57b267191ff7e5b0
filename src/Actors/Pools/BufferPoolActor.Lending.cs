using Akka.Actor;
using Akka.Event;
using DmaSg.Actors.Buffers;
using DmaSg.Actors.Protocol;
using DmaSg.Memory;

namespace DmaSg.Actors.Pools;

// Acquire, release, the waiters' queue, and borrowers that die.
public sealed partial class BufferPoolActor
{
    // LIFO: the buffer released last is the one most likely still in the CPU cache.
    private readonly List<PoolBuffer> _free = [];
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly Dictionary<long, LinkedListNode<Waiter>> _waiterIndex = [];
    private readonly HashSet<IActorRef> _watchedHolders = [];

    // Leases whose buffer stopped while lent: their release answers UseAfterRelease (a handle lets go quietly).
    private readonly HashSet<(IActorRef Buffer, IActorRef Holder)> _lost = [];
    private int _outstanding;
    private int _returning;
    private long _nextWaiterId;

    /// <summary>Buffers on their way to the free list: being allocated, or being checked after a release.</summary>
    private int Pending => _returning + _allocating;

    /// <summary>
    /// Lends a free buffer at once; otherwise queues the acquire when a buffer is on its way or can be made, or
    /// (policy Wait) until a release. Every queued waiter is answered: a buffer, WouldBlock on timeout, or a failure.
    /// </summary>
    private void OnAcquire(AcquireBuffer m, IActorRef replyTo)
    {
        ValidateHolder(m.Holder);
        if (!_active)
        {
            throw new DmaSgException(DmaSgError.UseAfterRelease, $"{_name} is deactivated");
        }

        if (PopFree() is { } free)
        {
            Lend(free, m.Holder, replyTo);
            return;
        }

        bool covered = _waiters.Count < Pending;
        if (!covered && CanAllocate)
        {
            Allocate();
            covered = true;
        }

        if (!covered)
        {
            if (_config.WhenEmpty == PoolEmptyPolicy.Fail)
            {
                throw new DmaSgException(DmaSgError.WouldBlock, $"{_name}: all {_buffers.Count} buffers are lent out");
            }

            if (_waiters.Count >= _config.MaxWaiters)
            {
                throw new DmaSgException(DmaSgError.WouldBlock, $"{_name}: {_waiters.Count} acquires are already waiting");
            }
        }

        long id = ++_nextWaiterId;
        _waiterIndex[id] = _waiters.AddLast(new Waiter(id, replyTo, m.Holder));
        WatchHolder(m.Holder);
        if (_config.WhenEmpty == PoolEmptyPolicy.Wait)
        {
            Timers.StartSingleTimer(id, new AcquireTimedOut(id), _config.AcquireTimeout);
        }
    }

    private void Lend(PoolBuffer buffer, IActorRef holder, IActorRef replyTo)
    {
        buffer.State = PoolBufferState.Lent;
        buffer.Holder = holder;
        _outstanding++;
        WatchHolder(holder);
        bool recycled = buffer.LentBefore;
        buffer.LentBefore = true;
        if (recycled)
        {
            _recycles++;
        }

        replyTo.Tell(new BufferAcquired(buffer.Info, recycled));
    }

    /// <summary>Hands free buffers to the waiters, oldest first.</summary>
    private void Serve()
    {
        while (_free.Count > 0 && _waiters.First is { } first)
        {
            RemoveWaiter(first);
            Lend(PopFree()!, first.Value.Holder, first.Value.ReplyTo);
        }
    }

    private Done OnRelease(ReleaseBuffer m)
    {
        if (m.Buffer is not null && m.Holder is not null && _lost.Remove((m.Buffer, m.Holder)))
        {
            throw new DmaSgException(DmaSgError.UseAfterRelease, $"{m.Buffer.Path.Name} stopped while it was lent");
        }

        if (m.Buffer is null || m.Holder is null || !_buffers.TryGetValue(m.Buffer, out PoolBuffer? buffer)
            || buffer.State != PoolBufferState.Lent || !m.Holder.Equals(buffer.Holder))
        {
            throw new DmaSgException(DmaSgError.InvalidArgument,
                $"{m.Holder?.Path.ToString() ?? "null"} has not acquired {m.Buffer?.Path.Name ?? "null"} from {_name}");
        }

        Return(buffer);
        return Done.Instance;
    }

    /// <summary>A lent buffer comes back: asked whether it can be lent again (and cleared), or dropped when inactive.</summary>
    private void Return(PoolBuffer buffer)
    {
        _outstanding--;
        buffer.Holder = null;
        if (!_active)
        {
            Drop(buffer);
            StopWhenEmpty();
            return;
        }

        buffer.State = PoolBufferState.Returning;
        _returning++;
        buffer.Info.Buffer.Tell(new RecycleBuffer(Self, _config.ZeroOnRecycle), Self);
    }

    private void OnRecycled(IActorRef actor, bool reusable)
    {
        if (!_buffers.TryGetValue(actor, out PoolBuffer? buffer) || buffer.State != PoolBufferState.Returning)
        {
            return;
        }

        _returning--;
        if (!_active)
        {
            Drop(buffer);
            StopWhenEmpty();
            return;
        }

        if (reusable)
        {
            PushFree(buffer);
            Serve();
            return;
        }

        // Still exported or mmapped by someone: never lend bytes another user may touch.
        _dropped++;
        Drop(buffer);
        Dprintk(1, "{0}: {1} came back with other users; the pool lets it go", _name, buffer.Info.Name);
        Replenish();
    }

    /// <summary>After losing a buffer: make new ones for waiters nothing is on its way for, and up to min.</summary>
    private void Replenish()
    {
        if (!_active)
        {
            return;
        }

        while (CanAllocate && (_waiters.Count > Pending || _buffers.Count + _allocating < _config.MinBuffers))
        {
            Allocate();
        }
    }

    /// <summary>A borrower died: its buffers come back and its waiting acquires end. Terminated may repeat: nothing is left then.</summary>
    private void OnHolderTerminated(IActorRef holder)
    {
        _lost.RemoveWhere(l => l.Holder.Equals(holder));
        PoolBuffer[] lent = _buffers.Values.Where(b => b.State == PoolBufferState.Lent && holder.Equals(b.Holder)).ToArray();
        foreach (PoolBuffer buffer in lent)
        {
            Return(buffer);
        }

        for (LinkedListNode<Waiter>? node = _waiters.First; node is not null;)
        {
            LinkedListNode<Waiter>? next = node.Next;
            if (node.Value.Holder.Equals(holder))
            {
                RemoveWaiter(node);
                node.Value.ReplyTo.Tell(new DmaSgFailure(DmaSgError.UseAfterRelease, $"{holder.Path} died while waiting on {_name}"));
            }

            node = next;
        }

        if (lent.Length > 0)
        {
            Log.Info("{0}: {1} died holding {2} buffers; taken back", _name, holder.Path, lent.Length);
        }
    }

    private void OnAcquireTimedOut(long id)
    {
        if (_waiterIndex.TryGetValue(id, out LinkedListNode<Waiter>? node))
        {
            RemoveWaiter(node);
            _timeouts++;
            node.Value.ReplyTo.Tell(new DmaSgFailure(DmaSgError.WouldBlock,
                $"{_name}: no buffer was released within {_config.AcquireTimeout.TotalMilliseconds} ms"));
        }
    }

    private void RemoveWaiter(LinkedListNode<Waiter> node)
    {
        _waiters.Remove(node);
        _waiterIndex.Remove(node.Value.Id);
        Timers.Cancel(node.Value.Id);
    }

    private void FailAllWaiters(DmaSgFailure failure)
    {
        while (_waiters.First is { } first)
        {
            RemoveWaiter(first);
            first.Value.ReplyTo.Tell(failure);
        }
    }

    private void WatchHolder(IActorRef holder)
    {
        // Kept until the holder dies: a borrower acquires again and again, and one watch serves them all.
        if (_watchedHolders.Add(holder))
        {
            Context.Watch(holder);
        }
    }

    private void PushFree(PoolBuffer buffer)
    {
        buffer.State = PoolBufferState.Free;
        _free.Add(buffer);
    }

    private PoolBuffer? PopFree()
    {
        if (_free.Count == 0)
        {
            return null;
        }

        PoolBuffer buffer = _free[^1];
        _free.RemoveAt(_free.Count - 1);
        return buffer;
    }

    /// <summary>An acquire in the queue: who gets the reply, and whose buffer it will be.</summary>
    private sealed record Waiter(long Id, IActorRef ReplyTo, IActorRef Holder);
}
