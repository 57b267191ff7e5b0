using Akka.Actor;
using Akka.Event;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Actors.DmaBufs;

/// <summary>
/// One exported dmabuf (vb2_dma_sg_dmabuf_ops). A child of its buffer, whose ref it holds as long as it
/// lives. Its own refcount is the sum over its holders plus one per attachment; at zero it stops, and the
/// buffer's DeathWatch drops the buffer ref (the seed's release). Attach spawns an
/// <see cref="AttachmentActor"/> with its own sg copy; vmap, kmap and mmap go to the buffer and come back
/// through here, so a reply never outlives the dmabuf it was asked of.
/// </summary>
public sealed class DmaBufActor : DmaSgActor
{
    private readonly long _id;
    private readonly long _size;
    private readonly SgTable _template;
    private readonly Dictionary<IActorRef, int> _holders = [];
    private readonly Dictionary<IActorRef, AttachmentRecord> _attachments = [];

    // Clients waiting for the buffer's answer to a relayed vmap/kmap/mmap; the buffer answers in order.
    private readonly Queue<IActorRef> _relays = new();
    private bool _released;

    private DmaBufActor(DmaSgRuntime runtime, long id, long size, SgTable template, IActorRef firstHolder)
        : base(runtime)
    {
        _id = id;
        _size = size;
        _template = template;
        _holders[firstHolder] = 1;
    }

    internal static Props Props(DmaSgRuntime runtime, long id, long size, SgTable template, IActorRef firstHolder) =>
        ActorProps.Of(() => new DmaBufActor(runtime, id, size, template, firstHolder));

    private int RefCount => _holders.Values.Sum() + _attachments.Count;

    private string Name => $"dmabuf#{_id}";

    protected override void PreStart()
    {
        DmaSgCounters.Inc(ref Counters.DmaBufs);
        foreach (IActorRef holder in _holders.Keys)
        {
            Context.Watch(holder);
        }
    }

    protected override void PostStop() => DmaSgCounters.Dec(ref Counters.DmaBufs);

    protected override void OnReceive(object message)
    {
        if (message is IDmaSgReply reply && Sender.Equals(Context.Parent) && _relays.Count > 0)
        {
            _relays.Dequeue().Tell(reply);
            StopIfDone();
            return;
        }

        if (message is Terminated t)
        {
            OnTerminated(t.ActorRef);
            return;
        }

        if (_released)
        {
            if (message is IDmaSgRequest)
            {
                Sender.Tell(DmaSgFailure.Released(Name));
            }

            return;
        }

        switch (message)
        {
            case AddRef m:
                Respond(() =>
                {
                    ValidateHolder(m.Holder);
                    if (!_holders.TryGetValue(m.Holder, out int n))
                    {
                        Context.Watch(m.Holder);
                    }

                    _holders[m.Holder] = n + 1;
                    return new RefTaken(RefCount);
                });
                break;
            case Put m:
                Respond(() => OnPut(m.Holder));
                break;
            case Attach m:
                Respond(() => OnAttach(m));
                break;
            case GetVaddr or Kmap:
                Relay(message);
                break;
            case Mmap m:
                RespondOnFailure(() =>
                {
                    ValidateHolder(m.Holder);
                    Relay(m);
                });
                break;
            case ExportFd m:
                // dma_buf_fd: the fd's ref is on the buffer behind this dmabuf, as a mapping's is.
                RespondOnFailure(() =>
                {
                    ValidateHolder(m.Holder);
                    Relay(m);
                });
                break;
            case Inspect:
                OnInspect();
                break;
            default:
                NotUnderstood(message);
                break;
        }
    }

    private void Relay(object message)
    {
        _relays.Enqueue(Sender);
        Context.Parent.Tell(message);
    }

    private IDmaSgReply OnPut(IActorRef holder)
    {
        if (holder is null || !_holders.TryGetValue(holder, out int n))
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{holder?.Path.ToString() ?? "null"} holds no ref on {Name}");
        }

        if (n == 1)
        {
            _holders.Remove(holder);
            Context.Unwatch(holder);
        }
        else
        {
            _holders[holder] = n - 1;
        }

        int left = RefCount;
        ReleaseIfUnused();
        return new RefDropped(left);
    }

    private IDmaSgReply OnAttach(Attach m)
    {
        ValidateHolder(m.Holder);
        if (m.MinSize < 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"size {m.MinSize} is negative");
        }

        if (_size < m.MinSize)
        {
            throw new DmaSgException(DmaSgError.Fault, $"{Name} has {_size} bytes, fewer than the {m.MinSize} asked for");
        }

        IDmaDevice device = Runtime.Devices.Get(m.Device);

        // The attachment holds the importer's device for its life, so the device cannot vanish under a mapping.
        device.Get();
        long id = Runtime.NextId();
        IActorRef attachment;
        try
        {
            attachment = Context.ActorOf(AttachmentActor.Props(Runtime, id, device, _template.Clone($"{Name}/attachment#{id}"), m.Holder),
                $"attachment-{id}");
        }
        catch
        {
            device.Put();
            throw;
        }

        Context.Watch(attachment);
        _attachments[attachment] = new AttachmentRecord(id);
        Dprintk(2, "{0}: attachment#{1} for {2}", Name, id, device.Name);
        return new AttachmentCreated(attachment, id, _size);
    }

    private void OnTerminated(IActorRef actor)
    {
        // Idempotent: a second Terminated, or one for an actor already forgotten, finds nothing.
        if (_attachments.Remove(actor))
        {
            ReleaseIfUnused();
            return;
        }

        if (_holders.Remove(actor, out int refs))
        {
            Log.Info("{0}: holder {1} died holding {2} refs; dropping them", Name, actor.Path, refs);
            ReleaseIfUnused();
        }
    }

    private void ReleaseIfUnused()
    {
        if (!_released && RefCount == 0)
        {
            _released = true;
            Dprintk(1, "{0}: released", Name);
            StopIfDone();
        }
    }

    private void StopIfDone()
    {
        if (_released && _relays.Count == 0)
        {
            Context.Stop(Self);
        }
    }

    private void OnInspect()
    {
        IActorRef requester = Sender;
        var info = new DmaBufInfo(Self, _id, _size, RefCount,
            _holders.Select(h => new HolderRefs(h.Key, h.Value)).ToArray(), []);
        Gather.Start(Context, _attachments.Keys.ToArray(), Runtime.Settings.AskTimeout, replies =>
            requester.Tell(info with { Attachments = replies.OfType<AttachmentInfo>().OrderBy(a => a.Id).ToArray() }));
    }

    private sealed record AttachmentRecord(long Id);
}
