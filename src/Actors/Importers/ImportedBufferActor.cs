using Akka.Actor;
using Akka.Event;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Importers;

/// <summary>
/// The importer side of a dmabuf (vb2_dma_sg_buf with a db_attach): attach, then pin (map) and unpin
/// (unmap) any number of times, then detach. Talks to its <see cref="DmaBufs.AttachmentActor"/> and the
/// dmabuf by message, one request at a time (later requests wait in the stash), and never blocks, so a
/// buffer that imports its own dmabuf cannot deadlock. Prepare/finish are no-ops (the exporter syncs).
/// It belongs to its holder: when the holder dies it stops, and its attachment, which watches it, detaches.
/// </summary>
public sealed class ImportedBufferActor : DmaSgActor, IWithUnboundedStash
{
    private readonly long _id;
    private readonly IDmaDevice _device;
    private readonly IActorRef _dmabuf;
    private readonly long _size;
    private readonly DmaDirection _dir;
    private readonly IActorRef _holder;
    private readonly IActorRef _replyTo;

    private ImporterState _state = ImporterState.Attaching;
    private IActorRef? _attachment;
    private SgTableInfo? _pinned;
    private nint _vaddr;
    private bool _holderGone;

    // The one request in flight to the attachment or dmabuf, and what to do with its answer.
    private IActorRef? _awaiting;
    private Action<IDmaSgReply>? _onReply;

    private ImportedBufferActor(DmaSgRuntime runtime, long id, IDmaDevice device, IActorRef dmabuf, long size, DmaDirection dir,
        IActorRef holder, IActorRef replyTo)
        : base(runtime)
    {
        _id = id;
        _device = device;
        _dmabuf = dmabuf;
        _size = size;
        _dir = dir;
        _holder = holder;
        _replyTo = replyTo;
    }

    public IStash Stash { get; set; } = null!;

    private string Name => $"importer#{_id}";

    internal static Props Props(DmaSgRuntime runtime, long id, IDmaDevice device, IActorRef dmabuf, long size, DmaDirection dir,
        IActorRef holder, IActorRef replyTo) =>
        ActorProps.Of(() => new ImportedBufferActor(runtime, id, device, dmabuf, size, dir, holder, replyTo));

    protected override void PreStart()
    {
        DmaSgCounters.Inc(ref Counters.Importers);
        Context.Watch(_holder);
        Context.Watch(_dmabuf);

        // attach_dmabuf: the attachment belongs to this importer, so it detaches when this actor stops.
        Await(_dmabuf, new Attach(_device.Name, _size, Self), reply =>
        {
            switch (reply)
            {
                case AttachmentCreated a:
                    _attachment = a.Attachment;
                    Context.Watch(a.Attachment);
                    _state = ImporterState.Attached;
                    _replyTo.Tell(new Imported(Self, _id, _size, a.DmaBufSize));
                    Dprintk(1, "{0}: attached to {1} for {2}", Name, _dmabuf.Path.Name, _device.Name);
                    break;
                case DmaSgFailure f:
                    _replyTo.Tell(f);
                    _state = ImporterState.Detached;
                    Context.Stop(Self);
                    break;
            }
        });
    }

    protected override void PostStop() => DmaSgCounters.Dec(ref Counters.Importers);

    protected override void OnReceive(object message)
    {
        if (message is Terminated t)
        {
            OnTerminated(t.ActorRef);
            return;
        }

        if (_awaiting is not null)
        {
            if (message is IDmaSgReply reply && Sender.Equals(_awaiting))
            {
                Complete(reply);
            }
            else
            {
                Stash.Stash();
            }

            return;
        }

        switch (message)
        {
            case Pin:
                OnPin();
                break;
            case Unpin:
                OnUnpin();
                break;
            case Detach:
                OnDetach(Sender);
                break;
            case Prepare or Finish:
                // The exporter owns the cache maintenance of a dmabuf.
                Sender.Tell(Done.Instance);
                break;
            case GetVaddr:
                OnGetVaddr();
                break;
            case GetCookie:
                Respond(() => new Cookie(_pinned ?? throw NotPinned()));
                break;
            case DmaRead m:
                Respond(() =>
                {
                    SgTableInfo table = _pinned ?? throw NotPinned();
                    CheckChunk(m.Count);
                    CheckRemoteRead(m.Count);
                    return new BytesRead(m.Offset, DmaAccess.Read(_device, table.Segments, _size, m.Offset, m.Count));
                });
                break;
            case DmaWrite m:
                Respond(() =>
                {
                    SgTableInfo table = _pinned ?? throw NotPinned();
                    byte[] data = m.Data ?? throw new DmaSgException(DmaSgError.InvalidArgument, "no data");
                    CheckChunk(data.Length);
                    DmaAccess.Write(_device, table.Segments, _size, m.Offset, data);
                    return new BytesWritten(m.Offset, data.Length);
                });
                break;
            case Inspect:
                Sender.Tell(new ImporterInfo(Self, _id, _device.Name, _holder, _dmabuf, _attachment, _size, _dir, _state, _vaddr != 0));
                break;
            default:
                NotUnderstood(message);
                break;
        }
    }

    private DmaSgException NotPinned() => new(DmaSgError.NotPinned, $"{Name} is not pinned");

    private DmaSgException NotAttached() => new(DmaSgError.NotAttached, $"{Name} has no attachment");

    private void OnPin()
    {
        IActorRef client = Sender;
        switch (_state)
        {
            case ImporterState.Pinned:
                Log.Warning("{0}: dmabuf buffer is already pinned", Name);
                client.Tell(new Pinned(_pinned!, AlreadyPinned: true));
                return;
            case ImporterState.Attached:
                Await(_attachment!, new MapAttachment(_dir), reply =>
                {
                    if (reply is AttachmentMapped m)
                    {
                        _pinned = m.Table;
                        _vaddr = 0;
                        _state = ImporterState.Pinned;
                        client.Tell(new Pinned(m.Table, AlreadyPinned: false));
                    }
                    else
                    {
                        client.Tell(reply);
                    }
                });
                return;
            default:
                Log.Warning("{0}: trying to pin a non attached buffer", Name);
                client.Tell(DmaSgFailure.From(NotAttached()));
                return;
        }
    }

    private void OnUnpin()
    {
        IActorRef client = Sender;
        switch (_state)
        {
            case ImporterState.Pinned:
                StartUnpin(reply => client.Tell(reply));
                return;
            case ImporterState.Attached:
                Log.Warning("{0}: dmabuf buffer is already unpinned", Name);
                client.Tell(DmaSgFailure.From(NotPinned()));
                return;
            default:
                client.Tell(DmaSgFailure.From(NotAttached()));
                return;
        }
    }

    /// <summary>unmap_dmabuf: drops the vaddr and unmaps the attachment; then <paramref name="then"/> gets the answer.</summary>
    private void StartUnpin(Action<IDmaSgReply> then)
    {
        _vaddr = 0;
        Await(_attachment!, new UnmapAttachment(_dir), reply =>
        {
            if (reply is Done)
            {
                _pinned = null;
                _state = ImporterState.Attached;
            }

            then(reply);
        });
    }

    private void OnDetach(IActorRef client)
    {
        switch (_state)
        {
            case ImporterState.Pinned:
                // "if vb2 works correctly you should never detach mapped buffer": warn, unpin, then detach.
                Log.Warning("{0}: detaching a pinned buffer; unpinning first", Name);
                StartUnpin(reply =>
                {
                    // NotAttached: the exporter died under us (the state is Detached now), so there is nothing left
                    // to undo and the detach goes on.
                    if (reply is DmaSgFailure { Error: not DmaSgError.NotAttached } f)
                    {
                        client.Tell(f);
                        return;
                    }

                    OnDetach(client);
                });
                return;
            case ImporterState.Attached:
                Await(_attachment!, Detach.Instance, reply =>
                {
                    // The attachment already gone (released, or died before answering) is as good as detached.
                    client.Tell(reply is DmaSgFailure { Error: DmaSgError.UseAfterRelease or DmaSgError.NotAttached } ? Done.Instance : reply);
                    _state = ImporterState.Detached;
                    Context.Stop(Self);
                });
                return;
            default:
                client.Tell(Done.Instance);
                Context.Stop(Self);
                return;
        }
    }

    private void OnGetVaddr()
    {
        IActorRef client = Sender;
        if (_state is not (ImporterState.Attached or ImporterState.Pinned))
        {
            client.Tell(DmaSgFailure.From(NotAttached()));
            return;
        }

        if (_vaddr != 0)
        {
            client.Tell(new Vaddr(_vaddr, _size));
            return;
        }

        // vaddr of an imported buffer is the dmabuf's vmap.
        Await(_dmabuf, GetVaddr.Instance, reply =>
        {
            if (reply is Vaddr v)
            {
                _vaddr = v.Address;
                client.Tell(v with { Size = _size });
            }
            else
            {
                client.Tell(reply);
            }
        });
    }

    private void CheckChunk(int count)
    {
        if (count > Runtime.Settings.MaxChunk)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{count} bytes exceed dmasg.max-chunk ({Runtime.Settings.MaxChunk})");
        }
    }

    /// <summary>A read's reply must fit the remote frame when the reader is on another node (else it is dropped unseen).</summary>
    private void CheckRemoteRead(int count)
    {
        int limit = Cluster.TransferLimits.Of(Context.System).ChunkFor(Sender, Runtime.Settings.MaxChunk);
        if (count > limit)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{count} bytes exceed the remote chunk limit ({limit}) for a reader on {Sender.Path.Address}");
        }
    }

    private void Await(IActorRef target, IDmaSgRequest request, Action<IDmaSgReply> onReply)
    {
        _awaiting = target;
        _onReply = onReply;
        target.Tell(request);
    }

    private void Complete(IDmaSgReply reply)
    {
        Action<IDmaSgReply> onReply = _onReply!;
        _awaiting = null;
        _onReply = null;
        onReply(reply);

        // onReply may have started the next step (detach after unpin); otherwise serve what waited.
        if (_awaiting is null)
        {
            if (_holderGone)
            {
                Context.Stop(Self);
                return;
            }

            Stash.UnstashAll();
        }
    }

    private void OnTerminated(IActorRef actor)
    {
        if (actor.Equals(_holder))
        {
            Log.Info("{0}: holder {1} died; detaching", Name, actor.Path);
            _holderGone = true;
            if (_awaiting is null)
            {
                Context.Stop(Self);
            }

            return;
        }

        if (actor.Equals(_attachment) || actor.Equals(_dmabuf))
        {
            // The exporter went away under us (it crashed): nothing left to pin or unpin.
            bool wasAwaited = actor.Equals(_awaiting) || (_awaiting is not null && (_awaiting.Equals(_attachment) || _awaiting.Equals(_dmabuf)));
            bool attaching = _state == ImporterState.Attaching;
            _attachment = null;
            _pinned = null;
            _vaddr = 0;
            _state = ImporterState.Detached;
            if (wasAwaited)
            {
                Complete(attaching ? DmaSgFailure.Released(_dmabuf.Path.Name) : DmaSgFailure.From(NotAttached()));
            }
        }
    }
}
