using DmaSg.Actors.Allocator;
using DmaSg.Actors.Protocol;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Serialization;

// Requests: allocator, buffer, dmabuf, attachment and importer messages.
internal static partial class WireCodecs
{
    private static void AddRequests()
    {
        // Allocator.
        Add<Allocate>("al", static (w, m) =>
        {
            w.Long(m.Size);
            w.Enum(m.Direction);
            w.String(m.Device);
            w.Ref(m.Holder);
            w.NullableString(m.Name);
        }, static r => new Allocate(r.Long(), r.Enum<DmaDirection>(), r.String(), r.Ref(), r.NullableString()));
        // A user pointer names memory of the caller's process: on another node it would pin whatever lives at that address.
        AddLocalOnly<GetUserptr>("up", "USERPTR memory belongs to the caller's process; allocate on the remote node and write the bytes instead");
        Add<AttachDmaBuf>("ad", static (w, m) =>
        {
            w.Ref(m.DmaBuf);
            w.Long(m.Size);
            w.Enum(m.Direction);
            w.String(m.Device);
            w.Ref(m.Holder);
        }, static r => new AttachDmaBuf(r.Ref(), r.Long(), r.Enum<DmaDirection>(), r.String(), r.Ref()));
        AddLocalOnly<RegisterDevice>("rd", "a device object lives in the process that built it; register it on its own node");
        AddLocalOnly<SetFaultInjector>("fi", "a fault injector is a test hook of this process");
        Add<RemoveDevice>("xd", static (w, m) => w.String(m.Name), static r => new RemoveDevice(r.String()));
        AddSingleton("gs", GetStats.Instance);
        Add<PagesReturned>("pr", static (w, m) =>
        {
            w.Ref(m.Buffer);
            w.List(m.Pages, static (w, p) => w.Int(p));
        }, static r => new PagesReturned(r.Ref(), r.List(static r => r.Int())));

        // Refs, shared by buffers and dmabufs.
        Add<AddRef>("ar", static (w, m) => w.Ref(m.Holder), static r => new AddRef(r.Ref()));
        Add<Put>("pu", static (w, m) => w.Ref(m.Holder), static r => new Put(r.Ref()));

        // Buffer memops.
        AddSingleton("pp", Prepare.Instance);
        AddSingleton("fn", Finish.Instance);
        AddSingleton("va", GetVaddr.Instance);
        Add<Kmap>("km", static (w, m) => w.Int(m.PageNumber), static r => new Kmap(r.Int()));
        Add<Mmap>("mm", static (w, m) =>
        {
            w.Long(m.Length);
            w.Ref(m.Holder);
        }, static r => new Mmap(r.Long(), r.Ref()));
        Add<Munmap>("mu", static (w, m) =>
        {
            w.Long(m.MappingId);
            w.Ref(m.Holder);
        }, static r => new Munmap(r.Long(), r.Ref()));
        AddSingleton("ck", GetCookie.Instance);
        AddSingleton("nu", GetNumUsers.Instance);
        Add<PutUserptr>("pt", static (w, m) => w.Ref(m.Holder), static r => new PutUserptr(r.Ref()));
        Add<ExportDmaBuf>("ex", static (w, m) => w.Ref(m.Holder), static r => new ExportDmaBuf(r.Ref()));

        // The data plane: bounded by dmasg.max-chunk and the remote frame size (the facade chunks).
        Add<ReadBytes>("rb", static (w, m) =>
        {
            w.Long(m.Offset);
            w.Int(m.Count);
        }, static r => new ReadBytes(r.Long(), r.Int()));
        Add<WriteBytes>("wb", static (w, m) =>
        {
            w.Long(m.Offset);
            w.Bytes(m.Data);
        }, static r => new WriteBytes(r.Long(), r.Bytes()));
        Add<DmaRead>("dr", static (w, m) =>
        {
            w.Long(m.Offset);
            w.Int(m.Count);
        }, static r => new DmaRead(r.Long(), r.Int()));
        Add<DmaWrite>("dw", static (w, m) =>
        {
            w.Long(m.Offset);
            w.Bytes(m.Data);
        }, static r => new DmaWrite(r.Long(), r.Bytes()));

        // dmabuf, attachment, importer.
        Add<Attach>("at", static (w, m) =>
        {
            w.String(m.Device);
            w.Long(m.MinSize);
            w.Ref(m.Holder);
        }, static r => new Attach(r.String(), r.Long(), r.Ref()));
        Add<MapAttachment>("ma", static (w, m) => w.Enum(m.Direction), static r => new MapAttachment(r.Enum<DmaDirection>()));
        Add<UnmapAttachment>("ua", static (w, m) => w.Enum(m.Direction), static r => new UnmapAttachment(r.Enum<DmaDirection>()));
        AddSingleton("pi", Pin.Instance);
        AddSingleton("un", Unpin.Instance);
        AddSingleton("de", Detach.Instance);
        AddSingleton("in", Inspect.Instance);
    }
}
