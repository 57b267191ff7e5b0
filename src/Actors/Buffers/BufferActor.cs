using Akka.Actor;
using Akka.Event;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Memory;
using DmaSg.Memory.Buffers;

namespace DmaSg.Actors.Buffers;

/// <summary>
/// One vb2_dma_sg_buf: owns its <see cref="SgBuffer"/> (pages or pinned user memory, sg table, device
/// mapping, vaddr, user mappings). Every ref has a holder; the refcount is the sum over holders (an exported
/// dmabuf is the holder of its own ref, each user mapping holds one), and a holder that dies loses its refs.
/// The last ref frees the buffer (pages go to the allocator by message) and stops the actor; if it stops for
/// any other reason, PostStop releases everything.
/// </summary>
public sealed partial class BufferActor : DmaSgActor
{
    private readonly long _id;
    private readonly SgBuffer _buf;
    private readonly PageSink? _sink;
    private readonly IActorRef _allocator;

    private BufferActor(DmaSgRuntime runtime, long id, SgBuffer buffer, IActorRef firstHolder, PageSink? sink, IActorRef allocator)
        : base(runtime)
    {
        _id = id;
        _buf = buffer;
        _sink = sink;
        _allocator = allocator;

        // SgBuffer starts with one ref: the allocating holder's.
        _holders[firstHolder] = new HolderState { Refs = 1 };
    }

    internal static Props Props(DmaSgRuntime runtime, long id, SgBuffer buffer, IActorRef firstHolder, PageSink? sink, IActorRef allocator) =>
        ActorProps.Of(() => new BufferActor(runtime, id, buffer, firstHolder, sink, allocator));

    private bool Released => _buf.IsReleased;

    protected override void PreStart()
    {
        DmaSgCounters.Inc(ref Counters.Buffers);
        _sink?.Bind(_allocator, Self);
        foreach (IActorRef holder in _holders.Keys)
        {
            Context.Watch(holder);
        }
    }

    protected override void PostStop()
    {
        if (!Released)
        {
            // Stopped with refs still held (a crash, or the allocator stopping): release everything now.
            Log.Warning("{0} stopping with {1} refs held; releasing", _buf.Name, _buf.NumUsers);
            ForceRelease();
        }

        DmaSgCounters.Dec(ref Counters.Buffers);
    }

    protected override void OnReceive(object message)
    {
        if (Released)
        {
            // Between the last Put and the stop taking effect.
            if (message is IDmaSgRequest)
            {
                Sender.Tell(DmaSgFailure.Released(_buf.Name));
            }

            return;
        }

        switch (message)
        {
            case AddRef m:
                Respond(() => OnAddRef(m.Holder));
                break;
            case Put m:
                Respond(() => OnPut(m.Holder));
                break;
            case PutUserptr m:
                Respond(() => OnPutUserptr(m.Holder));
                break;
            case Terminated t:
                OnHolderTerminated(t.ActorRef);
                break;
            case Prepare:
                Respond(() =>
                {
                    _buf.Prepare();
                    return Done.Instance;
                });
                break;
            case Finish:
                Respond(() =>
                {
                    _buf.Finish();
                    return Done.Instance;
                });
                break;
            case GetVaddr:
                Respond(() => new Vaddr(_buf.Vaddr(), _buf.Size));
                break;
            case Kmap m:
                Respond(() => new Kmapped(_buf.Kmap(m.PageNumber)));
                break;
            case GetNumUsers:
                Respond(() => new NumUsers(_buf.NumUsers));
                break;
            case Mmap m:
                Respond(() => OnMmap(m));
                break;
            case Munmap m:
                Respond(() => OnMunmap(m));
                break;
            case GetCookie:
                Respond(() => new Cookie(SgTableInfo.From(_buf.Cookie)));
                break;
            case ReadBytes m:
                Respond(() => OnReadBytes(m));
                break;
            case WriteBytes m:
                Respond(() => OnWriteBytes(m));
                break;
            case DmaRead m:
                Respond(() => OnDmaRead(m));
                break;
            case DmaWrite m:
                Respond(() => OnDmaWrite(m));
                break;
            case ExportDmaBuf m:
                Respond(() => OnExport(m.Holder));
                break;
            case ExportFd or CloseFd or PrepareFd or FinishFd:
                OnFdMessage(message);
                break;
            case Inspect:
                OnInspect();
                break;
            case RecycleBuffer m:
                Respond(() => OnRecycle(m));
                break;
            case LosePages when _sink is not null:
                _sink.Lost = true;
                Sender.Tell(Done.Instance);
                break;
            default:
                NotUnderstood(message);
                break;
        }
    }

    /// <summary>Called whenever a ref was dropped: the last one freed the buffer, so the actor stops.</summary>
    private void AfterDrop()
    {
        if (Released)
        {
            DmaSgCounters.Inc(ref Counters.Unmaps);
            Dprintk(1, "{0}: freed", _buf.Name);
            Context.Stop(Self);
        }
    }

    private void ForceRelease()
    {
        CloseAllFdExports();
        foreach (MmapEntry entry in _mmaps?.Values ?? Enumerable.Empty<MmapEntry>())
        {
            try
            {
                entry.Mapping.Dispose();
            }
            catch (Exception e)
            {
                Log.Error(e, "{0}: munmap of mapping {1} failed", _buf.Name, entry.Id);
            }

            DmaSgCounters.Dec(ref Counters.Mmaps);
        }

        _mmaps?.Clear();
        while (!Released)
        {
            try
            {
                _buf.Put();
            }
            catch (Exception e)
            {
                // SgBuffer runs every release step even when one throws, so the loop ends.
                Log.Error(e, "{0}: release reported a problem", _buf.Name);
            }
        }

        DmaSgCounters.Inc(ref Counters.Unmaps);
        _holders.Clear();
    }
}

/// <summary>
/// Test hook: the buffer's pages will not be sent home when it is freed, as if it had crashed first; the
/// allocator must reclaim them when it sees the buffer stop. Reply: <see cref="Done"/>.
/// </summary>
internal sealed record LosePages : IDmaSgRequest;
