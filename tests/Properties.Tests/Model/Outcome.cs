using DmaSg.Actors.Protocol;
using DmaSg.Memory;
using DmaSg.Memory.Dma;

namespace DmaSg.Properties.Tests.Model;

/// <summary>
/// A reply reduced to what the model can predict: the reply's kind and its numbers, or the typed failure.
/// The model and the real system both render into this form, so equality is the check.
/// </summary>
public sealed record Outcome(string Text)
{
    /// <summary>The operation names an object whose creation failed (possible only in parallel runs).</summary>
    public static readonly Outcome Unbound = new("Unbound");

    public static readonly Outcome Done = new("Done");

    public static readonly Outcome Stopped = new("Stopped");

    public static readonly Outcome Kmapped = new("Kmapped");

    public bool IsFailure => Enum.TryParse<DmaSgError>(Text.Split('(')[0], out _);

    public static Outcome Err(DmaSgError error) => new(error.ToString());

    public static Outcome Violation(DmaApiViolationKind kind) => new($"{DmaSgError.DmaApiViolation}({kind})");

    public static Outcome Created(int pages, long size, bool userptr = false) =>
        new($"BufferCreated(pages {pages}, size {size}{(userptr ? ", userptr" : string.Empty)})");

    public static Outcome RefTaken(int n) => new($"RefTaken({n})");

    public static Outcome RefDropped(int n) => new($"RefDropped({n})");

    public static Outcome NumUsers(int n) => new($"NumUsers({n})");

    public static Outcome UserptrReleased(int dirty, int refs) => new($"UserptrReleased(dirty {dirty}, refs {refs})");

    public static Outcome Exported(long size) => new($"Exported(size {size})");

    public static Outcome Mmapped(long length, long mapped) => new($"Mmapped({length}, mapped {mapped})");

    public static Outcome Vaddr(long size) => new($"Vaddr(size {size})");

    public static Outcome BytesRead(int n) => new($"BytesRead({n})");

    public static Outcome BytesWritten(int n) => new($"BytesWritten({n})");

    public static Outcome Cookie(bool mapped) => new($"Cookie(mapped {mapped})");

    public static Outcome AttachmentCreated(long size) => new($"AttachmentCreated(size {size})");

    public static Outcome AttachmentMapped(DmaDirection dir, bool cached) => new($"AttachmentMapped({dir}, cached {cached})");

    public static Outcome Imported(long size, long dmabufSize) => new($"Imported(size {size}, dmabuf {dmabufSize})");

    public static Outcome Pinned(bool already) => new($"Pinned(already {already})");

    public static Outcome DeviceRemoved(int refs, int mappings) => new($"DeviceRemoved(refs {refs}, mappings {mappings})");

    /// <summary>The real reply in the model's words. A zero address is called out: the seed's kmap returned NULL.</summary>
    public static Outcome Of(IDmaSgReply reply) => reply switch
    {
        DmaSgFailure { Violation: { } kind } f => new($"{f.Error}({kind})"),
        DmaSgFailure f => Err(f.Error),
        BufferCreated c => Created(c.NumPages, c.Size, c.IsUserptr),
        RefTaken r => RefTaken(r.RefCount),
        RefDropped r => RefDropped(r.RefCount),
        UserptrReleased u => UserptrReleased(u.DirtyPages.Count, u.RefCount),
        Actors.Protocol.NumUsers n => NumUsers(n.Count),
        Actors.Protocol.Exported e => Exported(e.Size),
        Actors.Protocol.Mmapped m => m.Address == 0 ? new("Mmapped(NULL)") : Mmapped(m.Length, m.MappedLength),
        Actors.Protocol.Done => Done,
        Actors.Protocol.Vaddr v => v.Address == 0 ? new("Vaddr(NULL)") : Vaddr(v.Size),
        Actors.Protocol.Kmapped k => k.Address == 0 ? new("Kmapped(NULL)") : Kmapped,
        Actors.Protocol.BytesRead b => BytesRead(b.Data.Length),
        Actors.Protocol.BytesWritten b => BytesWritten(b.Count),
        Actors.Protocol.Cookie c => Cookie(c.Table.IsMapped),
        Actors.Protocol.AttachmentCreated a => AttachmentCreated(a.DmaBufSize),
        Actors.Protocol.AttachmentMapped m => AttachmentMapped(m.Direction, m.Cached),
        Actors.Protocol.Imported i => Imported(i.Size, i.DmaBufSize),
        Actors.Protocol.Pinned p => Pinned(p.AlreadyPinned),
        Actors.Protocol.DeviceRemoved r => DeviceRemoved(r.Report.LiveRefs, r.Report.LiveMappings),
        _ => new(reply.GetType().Name),
    };

    public override string ToString() => Text;
}
