using Akka.Actor;
using Akka.Event;
using DmaSg.Actors.DmaBufs;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Memory;

namespace DmaSg.Actors.Buffers;

// get_dmabuf (export) and Inspect.
public sealed partial class BufferActor
{
    // Exported dmabufs: children, each the holder of one buffer ref (made on the first export).
    private HashSet<IActorRef>? _dmabufs;

    private IDmaSgReply OnExport(IActorRef holder)
    {
        ValidateHolder(holder);
        if (_buf.IsUserptr)
        {
            // vb2 exports only MMAP buffers: USERPTR memory belongs to its caller.
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{_buf.Name} is a USERPTR buffer and cannot be exported");
        }

        long id = Runtime.NextId();

        // Each dmabuf starts from its own unmapped copy of the CPU entries; attachments copy it again.
        var template = _buf.SgTable.Clone($"dmabuf#{id}");
        _buf.AddRef();
        IActorRef dmabuf;
        try
        {
            dmabuf = Context.ActorOf(DmaBufActor.Props(Runtime, id, _buf.Size, template, holder), $"dmabuf-{id}");
        }
        catch
        {
            _buf.Put();
            throw;
        }

        // The dmabuf holds the ref it keeps until its release; DeathWatch drops it when the dmabuf stops.
        State(dmabuf).Refs++;
        (_dmabufs ??= []).Add(dmabuf);
        Dprintk(1, "{0}: exported as dmabuf#{1}", _buf.Name, id);
        return new Exported(dmabuf, id, _buf.Size);
    }

    private void OnInspect()
    {
        IActorRef requester = Sender;
        var sgt = _buf.SgTable;
        var info = new BufferInfo(
            Self,
            _id,
            _buf.Name,
            _buf.Size,
            _buf.NumPages,
            _buf.IsUserptr,
            _buf.Device.Name,
            _buf.Direction,
            _buf.NumUsers,
            _holders.Where(h => h.Value.TotalRefs > 0).Select(h => new HolderRefs(h.Key, h.Value.TotalRefs)).ToArray(),
            (_mmaps?.Values ?? Enumerable.Empty<MmapEntry>()).Select(m => new MmapInfo(m.Id, m.Holder, m.Mapping.Length)).OrderBy(m => m.MappingId).ToArray(),
            _buf.HasVaddr,
            sgt.OrigNents,
            sgt.Nents,
            []);
        Gather.Start(Context, _dmabufs?.ToArray() ?? [], Runtime.Settings.AskTimeout, replies =>
            requester.Tell(info with { DmaBufs = replies.OfType<DmaBufInfo>().OrderBy(d => d.Id).ToArray() }));
    }
}
