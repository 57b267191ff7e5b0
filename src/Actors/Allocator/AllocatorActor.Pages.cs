using Akka.Actor;
using Akka.Event;
using DmaSg.Actors.Buffers;
using DmaSg.Actors.Importers;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Memory;
using DmaSg.Memory.Buffers;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Allocator;

// Taking pages (alloc, userptr), getting them back (PagesReturned), and reclaiming them (Terminated).
public sealed partial class AllocatorActor
{
    private IDmaSgReply OnAllocate(Allocate m)
    {
        ValidateHolder(m.Holder);
        IDmaDevice device = Runtime.Devices.Get(m.Device);
        IActorRef payer = CheckQuota(m);
        long id = Runtime.NextId();
        string name = m.Name ?? $"buffer#{id}";
        var sink = new PageSink(_arena);
        SgBuffer buffer;
        try
        {
            buffer = AllocateBuffer(device, m, name, sink);
        }
        catch (DmaSgException e)
        {
            DmaSgCounters.Inc(ref Counters.AllocationFailures);
            Log.Warning("alloc of {0} bytes for {1} failed: {2}", m.Size, m.Device, e.Message);
            throw;
        }

        int[] pages = buffer.Pages.ToArray();
        var created = new BufferCreated(ActorRefs.Nobody, id, name, buffer.Size, buffer.NumPages, buffer.SgTable.OrigNents,
            buffer.SgTable.Nents, IsUserptr: false, device.Name, m.Direction);
        IActorRef actor = Spawn(buffer, id, m.Holder, sink);
        _buffers[actor] = new BufferRecord(id, buffer.Dmabuf is null ? pages : null);
        ChargeQuota(actor, payer, buffer.NumPages);
        DmaSgCounters.Inc(ref Counters.Allocations);
        DmaSgCounters.Inc(ref Counters.Maps);
        PublishFreePages();
        Dprintk(1, "{0}: allocated {1} pages in {2} sg entries", name, created.NumPages, created.OrigNents);
        return created with { Buffer = actor };
    }

    private IDmaSgReply OnGetUserptr(GetUserptr m)
    {
        ValidateHolder(m.Holder);
        IDmaDevice device = Runtime.Devices.Get(m.Device);
        long id = Runtime.NextId();
        string name = m.Name ?? $"userptr#{id}";
        SgBuffer buffer = m.Memory switch
        {
            UserMemory.Native n => SgBuffer.GetUserptr(device, n.Address, n.Length, m.Direction, name),
            UserMemory.Managed mm => SgBuffer.GetUserptr(device, mm.Memory, m.Direction, name),
            UserMemory.ReadOnly ro => SgBuffer.GetUserptr(device, ro.Memory, m.Direction, name),
            _ => throw new DmaSgException(DmaSgError.InvalidArgument, "no user memory"),
        };

        var created = new BufferCreated(ActorRefs.Nobody, id, name, buffer.Size, buffer.NumPages, buffer.SgTable.OrigNents,
            buffer.SgTable.Nents, IsUserptr: true, device.Name, m.Direction);
        IActorRef actor = Spawn(buffer, id, m.Holder, sink: null);
        _buffers[actor] = new BufferRecord(id, pages: null);
        DmaSgCounters.Inc(ref Counters.Maps);
        return created with { Buffer = actor };
    }

    private IActorRef Spawn(SgBuffer buffer, long id, IActorRef holder, PageSink? sink)
    {
        try
        {
            IActorRef actor = Context.ActorOf(BufferActor.Props(Runtime, id, buffer, holder, sink, Self), $"buffer-{id}");
            Context.Watch(actor);
            return actor;
        }
        catch
        {
            // No actor owns it: release here, where the arena lives (the sink is still unbound).
            buffer.Put();
            throw;
        }
    }

    private void OnAttachDmaBuf(AttachDmaBuf m)
    {
        IActorRef replyTo = Sender;
        RespondOnFailure(() =>
        {
            ValidateHolder(m.Holder);
            if (m.DmaBuf is null || m.DmaBuf.IsNobody())
            {
                throw new DmaSgException(DmaSgError.InvalidArgument, "no dmabuf");
            }

            m.Direction.ThrowIfInvalidForMapping();
            if (m.Size <= 0)
            {
                throw new DmaSgException(DmaSgError.InvalidArgument, $"size {m.Size} must be positive");
            }

            IDmaDevice device = Runtime.Devices.Get(m.Device);
            if (device.IsRemoved)
            {
                throw new DmaSgException(DmaSgError.DeviceGone, $"{device.Name} was removed");
            }

            long id = Runtime.NextId();
            IActorRef importer = Context.ActorOf(ImportedBufferActor.Props(Runtime, id, device, m.DmaBuf, m.Size, m.Direction, m.Holder, replyTo),
                $"importer-{id}");
            Context.Watch(importer);
            _importers[importer] = id;

            // The importer itself answers once its attachment exists (or failed).
        });
    }

    private void OnPagesReturned(PagesReturned m)
    {
        UnchargeQuota(m.Buffer);
        if (_buffers.TryGetValue(m.Buffer, out BufferRecord? record) && record.Pages is { } pages)
        {
            record.Pages = null;
            if (!DetachIfShared(record, pages))
            {
                return;
            }

            _arena.FreePageList(pages);
            PublishFreePages();
            Dprintk(2, "buffer#{0}: {1} pages back", record.Id, pages.Length);
        }
    }

    private void OnTerminated(IActorRef actor)
    {
        OnWatchedTerminated(actor);
        if (_buffers.Remove(actor, out BufferRecord? record))
        {
            if (record.Pages is { } pages)
            {
                // The buffer stopped without sending its pages home (a crash, or its PostStop failed): take them back.
                if (!DetachIfShared(record, pages))
                {
                    return;
                }

                _arena.FreePageList(pages);
                Interlocked.Add(ref Counters.PagesReclaimed, pages.Length);
                PublishFreePages();
                Log.Warning("buffer#{0} stopped without returning its {1} pages; reclaimed", record.Id, pages.Length);
            }

            return;
        }

        _importers.Remove(actor);
    }
}
