using DmaSg.Actors.Protocol;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Actors.Serialization;

// Replies: successes, the typed failure, and the values they carry (sg tables, device reports).
internal static partial class WireCodecs
{
    private static void AddReplies()
    {
        Add<DmaSgFailure>("f", static (w, m) =>
        {
            w.Enum(m.Error);
            w.String(m.Message);
            w.Bool(m.Violation is not null);
            if (m.Violation is { } v)
            {
                w.Enum(v);
            }
        }, static r => new DmaSgFailure(r.Enum<DmaSgError>(), r.String(), r.Bool() ? r.Enum<DmaApiViolationKind>() : null));
        AddSingleton("ok", Done.Instance);
        Add<RefTaken>("rt", static (w, m) => w.Int(m.RefCount), static r => new RefTaken(r.Int()));
        Add<RefDropped>("rx", static (w, m) => w.Int(m.RefCount), static r => new RefDropped(r.Int()));

        Add<BufferCreated>("bc", static (w, m) =>
        {
            w.Ref(m.Buffer);
            w.Long(m.Id);
            w.String(m.Name);
            w.Long(m.Size);
            w.Int(m.NumPages);
            w.Int(m.OrigNents);
            w.Int(m.Nents);
            w.Bool(m.IsUserptr);
            w.String(m.Device);
            w.Enum(m.Direction);
        }, static r => new BufferCreated(r.Ref(), r.Long(), r.String(), r.Long(), r.Int(), r.Int(), r.Int(), r.Bool(), r.String(),
            r.Enum<DmaDirection>()));
        Add<Imported>("im", static (w, m) =>
        {
            w.Ref(m.Importer);
            w.Long(m.Id);
            w.Long(m.Size);
            w.Long(m.DmaBufSize);
        }, static r => new Imported(r.Ref(), r.Long(), r.Long(), r.Long()));
        Add<DeviceRegistered>("dg", static (w, m) => w.String(m.Name), static r => new DeviceRegistered(r.String()));
        Add<DeviceRemoved>("dx", static (w, m) =>
        {
            w.String(m.Report.Device);
            w.Int(m.Report.LiveRefs);
            w.Int(m.Report.LiveMappings);
            w.List(m.Report.MappingOwners, static (w, s) => w.String(s));
        }, static r => new DeviceRemoved(new DeviceRemovalReport(r.String(), r.Int(), r.Int(), r.List(static r => r.String()))));
        Add<NumUsers>("nn", static (w, m) => w.Int(m.Count), static r => new NumUsers(r.Int()));
        Add<UserptrReleased>("ur", static (w, m) =>
        {
            w.List(m.DirtyPages, static (w, a) => w.Address(a));
            w.Int(m.RefCount);
        }, static r => new UserptrReleased(r.List(static r => r.Address()), r.Int()));
        Add<Exported>("eb", static (w, m) =>
        {
            w.Ref(m.DmaBuf);
            w.Long(m.Id);
            w.Long(m.Size);
        }, static r => new Exported(r.Ref(), r.Long(), r.Long()));
        Add<AttachmentCreated>("ac", static (w, m) =>
        {
            w.Ref(m.Attachment);
            w.Long(m.Id);
            w.Long(m.DmaBufSize);
        }, static r => new AttachmentCreated(r.Ref(), r.Long(), r.Long()));
        Add<AttachmentMapped>("am", static (w, m) =>
        {
            WriteTable(w, m.Table);
            w.Enum(m.Direction);
            w.Bool(m.Cached);
        }, static r => new AttachmentMapped(ReadTable(r), r.Enum<DmaDirection>(), r.Bool()));
        Add<Pinned>("pn", static (w, m) =>
        {
            WriteTable(w, m.Table);
            w.Bool(m.AlreadyPinned);
        }, static r => new Pinned(ReadTable(r), r.Bool()));
        Add<Cookie>("co", static (w, m) => WriteTable(w, m.Table), static r => new Cookie(ReadTable(r)));

        // Addresses are numbers of the owning node's process: they travel, but only that node may use them.
        Add<Vaddr>("vd", static (w, m) =>
        {
            w.Address(m.Address);
            w.Long(m.Size);
        }, static r => new Vaddr(r.Address(), r.Long()));
        Add<Kmapped>("kd", static (w, m) => w.Address(m.Address), static r => new Kmapped(r.Address()));
        Add<Mmapped>("md", static (w, m) =>
        {
            w.Ref(m.Buffer);
            w.Long(m.MappingId);
            w.Address(m.Address);
            w.Long(m.Length);
            w.Long(m.MappedLength);
        }, static r => new Mmapped(r.Ref(), r.Long(), r.Address(), r.Long(), r.Long()));
        Add<BytesRead>("br", static (w, m) =>
        {
            w.Long(m.Offset);
            w.Bytes(m.Data);
        }, static r => new BytesRead(r.Long(), r.Bytes()));
        Add<BytesWritten>("bw", static (w, m) =>
        {
            w.Long(m.Offset);
            w.Int(m.Count);
        }, static r => new BytesWritten(r.Long(), r.Int()));
    }

    private static void WriteTable(WireWriter w, SgTableInfo t)
    {
        w.String(t.Owner);
        w.Int(t.OrigNents);
        w.Int(t.Nents);
        w.Long(t.Length);
        w.Int(t.FirstOffset);
        w.List(t.Entries, static (w, e) =>
        {
            w.Long(e.Phys);
            w.Address(e.Cpu);
            w.Long(e.Length);
        });
        w.List(t.Segments, static (w, s) =>
        {
            w.Long(s.Address);
            w.Long(s.Length);
        });
    }

    private static SgTableInfo ReadTable(WireReader r) => new(
        r.String(),
        r.Int(),
        r.Int(),
        r.Long(),
        r.Int(),
        r.List(static r => new SgEntry(r.Long(), r.Address(), r.Long())),
        r.List(static r => new DmaSegment(r.Long(), r.Long())));
}
