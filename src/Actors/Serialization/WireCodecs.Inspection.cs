using DmaSg.Actors.Cluster;
using DmaSg.Actors.Protocol;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Serialization;

// Stats and Inspect answers, and the cluster's own messages.
internal static partial class WireCodecs
{
    private static void AddInspection()
    {
        Add<AllocatorStats>("st", static (w, m) => WriteStats(w, m), static r => ReadStats(r));
        Add<BufferInfo>("bi", static (w, m) => WriteBufferInfo(w, m), static r => ReadBufferInfo(r));
        Add<DmaBufInfo>("di", static (w, m) => WriteDmaBufInfo(w, m), static r => ReadDmaBufInfo(r));
        Add<AttachmentInfo>("ai", static (w, m) => WriteAttachmentInfo(w, m), static r => ReadAttachmentInfo(r));
        Add<ImporterInfo>("ii", static (w, m) =>
        {
            w.Ref(m.Subject);
            w.Long(m.Id);
            w.String(m.Device);
            w.Ref(m.Holder);
            w.Ref(m.DmaBuf);
            w.Ref(m.Attachment);
            w.Long(m.Size);
            w.Enum(m.Direction);
            w.Enum(m.State);
            w.Bool(m.HasVaddr);
        }, static r => new ImporterInfo(r.Ref(), r.Long(), r.String(), r.Ref(), r.Ref(), r.NullableRef(), r.Long(), r.Enum<DmaDirection>(),
            r.Enum<ImporterState>(), r.Bool()));
        Add<DmaSgInspection>("is", static (w, m) =>
        {
            WriteStats(w, m.Stats);
            w.List(m.Buffers, WriteBufferInfo);
            w.List(m.Importers, static (w, i) => ByType[typeof(ImporterInfo)].Write(w, i));
            w.List(m.Pools, WritePoolInfo);
        }, static r => new DmaSgInspection(ReadStats(r), r.List(ReadBufferInfo), r.List(static r => (ImporterInfo)ByType[typeof(ImporterInfo)].Read(r)))
        {
            Pools = r.List(ReadPoolInfo),
        });
    }

    private static void AddCluster()
    {
        Add<NodeMemoryStats>("ns", static (w, m) =>
        {
            w.String(m.Node);
            w.String(m.Address);
            w.Ref(m.Allocator);
            w.Long(m.TotalPages);
            w.Long(m.FreePages);
            w.Int(m.PageSize);
            w.Int(m.LargestFreeOrder);
            w.Int(m.LiveBuffers);
            w.Long(m.UpdatedAtMs);
        }, static r => new NodeMemoryStats(r.String(), r.String(), r.Ref(), r.Long(), r.Long(), r.Int(), r.Int(), r.Int(), r.Long()));
    }

    private static void WriteStats(WireWriter w, AllocatorStats m)
    {
        w.Long(m.TotalPages);
        w.Long(m.FreePages);
        w.Int(m.PageSize);
        w.Int(m.MaxOrder);
        w.List(m.FreeBlocksPerOrder, static (w, n) => w.Int(n));
        w.List(m.FreePagesPerOrder, static (w, n) => w.Long(n));
        w.Int(m.LiveBuffers);
        w.Int(m.LiveImporters);
        w.Int(m.Actors.Buffers);
        w.Int(m.Actors.DmaBufs);
        w.Int(m.Actors.Attachments);
        w.Int(m.Actors.Importers);
        w.Int(m.LiveMmaps);
        w.Int(m.DeviceMappings);
        w.Int(m.AttachmentMappings);
        w.List(m.Devices, static (w, d) =>
        {
            w.String(d.Name);
            w.String(d.Model);
            w.Int(d.RefCount);
            w.Int(d.LiveMappings);
            w.Bool(d.IsRemoved);
            w.Int(d.Violations);
        });
        w.Long(m.Allocations);
        w.Long(m.AllocationFailures);
        w.Long(m.PagesReclaimed);
        w.Long(m.Maps);
        w.Long(m.Unmaps);
        w.List(m.Quotas, WriteQuota);
        w.Long(m.QuotaDefaultPages);
        w.Int(m.LivePools);
    }

    private static AllocatorStats ReadStats(WireReader r) => new(
        r.Long(),
        r.Long(),
        r.Int(),
        r.Int(),
        r.List(static r => r.Int()),
        r.List(static r => r.Long()),
        r.Int(),
        r.Int(),
        new LiveActorCounts(r.Int(), r.Int(), r.Int(), r.Int()),
        r.Int(),
        r.Int(),
        r.Int(),
        r.List(static r => new DeviceStats(r.String(), r.String(), r.Int(), r.Int(), r.Bool(), r.Int())),
        r.Long(),
        r.Long(),
        r.Long(),
        r.Long(),
        r.Long())
    {
        Quotas = r.List(ReadQuota),
        QuotaDefaultPages = r.Long(),
        LivePools = r.Int(),
    };

    private static void WriteBufferInfo(WireWriter w, BufferInfo m)
    {
        w.Ref(m.Subject);
        w.Long(m.Id);
        w.String(m.Name);
        w.Long(m.Size);
        w.Int(m.NumPages);
        w.Bool(m.IsUserptr);
        w.String(m.Device);
        w.Enum(m.Direction);
        w.Int(m.NumUsers);
        w.List(m.Holders, WriteHolderRefs);
        w.List(m.Mmaps, static (w, x) =>
        {
            w.Long(x.MappingId);
            w.Ref(x.Holder);
            w.Long(x.Length);
        });
        w.Bool(m.HasVaddr);
        w.Int(m.OrigNents);
        w.Int(m.Nents);
        w.List(m.DmaBufs, WriteDmaBufInfo);
    }

    private static BufferInfo ReadBufferInfo(WireReader r) => new(
        r.Ref(),
        r.Long(),
        r.String(),
        r.Long(),
        r.Int(),
        r.Bool(),
        r.String(),
        r.Enum<DmaDirection>(),
        r.Int(),
        r.List(ReadHolderRefs),
        r.List(static r => new MmapInfo(r.Long(), r.Ref(), r.Long())),
        r.Bool(),
        r.Int(),
        r.Int(),
        r.List(ReadDmaBufInfo));

    private static void WriteDmaBufInfo(WireWriter w, DmaBufInfo m)
    {
        w.Ref(m.Subject);
        w.Long(m.Id);
        w.Long(m.Size);
        w.Int(m.RefCount);
        w.List(m.Holders, WriteHolderRefs);
        w.List(m.Attachments, WriteAttachmentInfo);
    }

    private static DmaBufInfo ReadDmaBufInfo(WireReader r) =>
        new(r.Ref(), r.Long(), r.Long(), r.Int(), r.List(ReadHolderRefs), r.List(ReadAttachmentInfo));

    private static void WriteAttachmentInfo(WireWriter w, AttachmentInfo m)
    {
        w.Ref(m.Subject);
        w.Long(m.Id);
        w.String(m.Device);
        w.Ref(m.Holder);
        w.Enum(m.Direction);
        w.Bool(m.IsMapped);
        w.Int(m.OrigNents);
        w.Int(m.Nents);
    }

    private static AttachmentInfo ReadAttachmentInfo(WireReader r) =>
        new(r.Ref(), r.Long(), r.String(), r.Ref(), r.Enum<DmaDirection>(), r.Bool(), r.Int(), r.Int());

    private static void WriteHolderRefs(WireWriter w, HolderRefs h)
    {
        w.Ref(h.Holder);
        w.Int(h.Refs);
    }

    private static HolderRefs ReadHolderRefs(WireReader r) => new(r.Ref(), r.Int());
}
