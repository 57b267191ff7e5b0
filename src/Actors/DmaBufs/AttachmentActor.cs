using Akka.Actor;
using Akka.Event;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Actors.DmaBufs;

/// <summary>
/// One dma_buf_attachment (vb2_dma_sg_attachment): its own copy of the sg table and the cached mapping
/// direction. Map/unmap are serialized by this mailbox, which replaces the seed's "stolen" dmabuf mutex.
/// Holds one dmabuf ref while alive; detaches (unmapping first) on Detach or when its holder dies.
/// </summary>
public sealed class AttachmentActor : DmaSgActor
{
    private readonly long _id;
    private readonly IDmaDevice _device;
    private readonly SgTable _sgt;
    private readonly IActorRef _holder;
    private DmaDirection _dir = DmaDirection.None;

    // The mapped table as a value, made once per mapping: a cached map answers with it instead of
    // copying the entries and segments again. Immutable, so every reply can share it.
    private SgTableInfo? _info;

    private AttachmentActor(DmaSgRuntime runtime, long id, IDmaDevice device, SgTable sgt, IActorRef holder)
        : base(runtime)
    {
        _id = id;
        _device = device;
        _sgt = sgt;
        _holder = holder;
    }

    internal static Props Props(DmaSgRuntime runtime, long id, IDmaDevice device, SgTable sgt, IActorRef holder) =>
        ActorProps.Of(() => new AttachmentActor(runtime, id, device, sgt, holder));

    protected override void PreStart()
    {
        DmaSgCounters.Inc(ref Counters.Attachments);
        Context.Watch(_holder);
    }

    protected override void PostStop()
    {
        try
        {
            Unmap();
        }
        catch (Exception e)
        {
            Log.Error(e, "{0}: unmap on detach failed", _sgt.Owner);
        }

        _device.Put();
        DmaSgCounters.Dec(ref Counters.Attachments);
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case MapAttachment m:
                Respond(() => OnMap(m.Direction));
                break;
            case UnmapAttachment:
                // The seed keeps the mapping cached until the direction changes or the attachment goes.
                Sender.Tell(Done.Instance);
                break;
            case Detach:
                Respond(() =>
                {
                    Unmap();
                    Context.Stop(Self);
                    return Done.Instance;
                });
                break;
            case Terminated t when t.ActorRef.Equals(_holder):
                Dprintk(1, "{0}: holder {1} died; detaching", _sgt.Owner, _holder.Path);
                Context.Stop(Self);
                break;
            case Terminated:
                break;
            case Inspect:
                Sender.Tell(new AttachmentInfo(Self, _id, _device.Name, _holder, _dir, _sgt.IsMapped, _sgt.OrigNents, _sgt.Nents));
                break;
            default:
                NotUnderstood(message);
                break;
        }
    }

    private IDmaSgReply OnMap(DmaDirection dir)
    {
        dir.ThrowIfInvalidForMapping();
        if (_dir == dir)
        {
            return new AttachmentMapped(_info ??= SgTableInfo.From(_sgt), dir, Cached: true);
        }

        // Release the previous cache, then map with the new direction.
        Unmap();
        try
        {
            _device.MapSg(_sgt, dir);
        }
        catch (DmaSgException e)
        {
            throw new DmaSgException(DmaSgError.Io, $"{_sgt.Owner}: failed to map scatterlist {dir} on {_device.Name}: {e.Message}", e);
        }

        _dir = dir;
        _info = SgTableInfo.From(_sgt);
        DmaSgCounters.Inc(ref Counters.AttachmentMappings);
        DmaSgCounters.Inc(ref Counters.Maps);
        return new AttachmentMapped(_info, dir, Cached: false);
    }

    private void Unmap()
    {
        if (_dir == DmaDirection.None)
        {
            return;
        }

        DmaDirection dir = _dir;
        _dir = DmaDirection.None;
        _info = null;
        DmaSgCounters.Dec(ref Counters.AttachmentMappings);
        DmaSgCounters.Inc(ref Counters.Unmaps);
        _device.UnmapSg(_sgt, _sgt.OrigNents, dir);
    }
}
