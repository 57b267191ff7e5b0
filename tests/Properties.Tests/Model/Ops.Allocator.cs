using System.Collections.Immutable;
using System.Runtime.InteropServices;
using DmaSg.Actors.Protocol;
using DmaSg.Memory;
using DmaSg.Memory.Dma;

namespace DmaSg.Properties.Tests.Model;

/// <summary>vb2_dma_sg_alloc: Allocate to the allocator.</summary>
public sealed class AllocOp(int tag, int holder, long size, DmaDirection dir, string dev) : Op
{
    public override string Call => $"b{tag} = {H(holder)}.Allocate({size}, {Dir(dir)}, \"{dev}\")";

    public override IEnumerable<int> Creates => [tag];

    public override string? MapsOn(World w) => dev;

    protected override IEnumerable<(World, Outcome)> Model(World w)
    {
        if (!w.Devs.TryGetValue(dev, out DevM? device) || !dir.IsValidForMapping() || PagesFor(size, w.PageSize) is not int pages)
        {
            return Fail(w, DmaSgError.InvalidArgument);
        }

        if (device.Removed)
        {
            return Fail(w, DmaSgError.DeviceGone);
        }

        if (pages > w.FreePages)
        {
            return Fail(w, DmaSgError.OutOfMemory);
        }

        if (device.MapFault)
        {
            // The pages were taken and go back; the device's answer comes through.
            return Fail(w.Set(device with { MapFault = false }), DmaSgError.OutOfMemory);
        }

        long bytes = (long)pages * w.PageSize;
        var b = new BufM(tag, pages, bytes, dir, dev, Userptr: false, ReadOnly: false, Released: false,
            ImmutableSortedDictionary<int, int>.Empty.Add(holder, 1), HasVaddr: false);
        World next = w.Set(b).WithTag(tag);
        if (!w.HolderAlive(holder))
        {
            next = next.Later(new BufDropHolder(tag, holder));
        }

        return One(next, Outcome.Created(pages, bytes));
    }

    protected override async Task<Outcome> Real(Sut.Sut sut)
    {
        IDmaSgReply reply = await sut.Ask(sut.Allocator, new Allocate(size, dir, dev, Actor(sut, holder))).ConfigureAwait(false);
        if (reply is BufferCreated c)
        {
            sut.Bind(tag, c.Buffer);
        }

        return Outcome.Of(reply);
    }
}

/// <summary>Which caller memory a USERPTR buffer is made of.</summary>
public enum UserKind
{
    Managed,
    ReadOnly,
    Native,
}

/// <summary>vb2_dma_sg_get_userptr: GetUserptr to the allocator, over caller memory starting <c>offset</c> bytes into a page.</summary>
public sealed class UserptrOp(int tag, int holder, UserKind kind, int length, int offset, DmaDirection dir, string dev) : Op
{
    public override string Call => $"b{tag} = {H(holder)}.Userptr({kind.ToString().ToLowerInvariant()} memory at page offset {offset}, {length} bytes, {Dir(dir)}, \"{dev}\")";

    public override IEnumerable<int> Creates => [tag];

    public override string? MapsOn(World w) => dev;

    protected override IEnumerable<(World, Outcome)> Model(World w)
    {
        if (!w.Devs.TryGetValue(dev, out DevM? device) || !dir.IsValidForMapping())
        {
            return Fail(w, DmaSgError.InvalidArgument);
        }

        // get_device comes before the pin.
        if (device.Removed)
        {
            return Fail(w, DmaSgError.DeviceGone);
        }

        if (kind == UserKind.ReadOnly && dir.DeviceWrites())
        {
            return Fail(w, DmaSgError.Fault);
        }

        if (length <= 0)
        {
            return Fail(w, DmaSgError.InvalidArgument);
        }

        if (device.MapFault)
        {
            return Fail(w.Set(device with { MapFault = false }), DmaSgError.OutOfMemory);
        }

        int pages = (offset + length + w.PageSize - 1) / w.PageSize;
        var b = new BufM(tag, pages, length, dir, dev, Userptr: true, ReadOnly: kind == UserKind.ReadOnly, Released: false,
            ImmutableSortedDictionary<int, int>.Empty.Add(holder, 1), HasVaddr: false);
        World next = w.Set(b).WithTag(tag);
        if (!w.HolderAlive(holder))
        {
            next = next.Later(new BufDropHolder(tag, holder));
        }

        return One(next, Outcome.Created(pages, length, userptr: true));
    }

    protected override async Task<Outcome> Real(Sut.Sut sut)
    {
        int pageSize = Environment.SystemPageSize;
        int bytes = Math.Max(length, 0) + offset + (2 * pageSize);
        UserMemory memory;
        if (kind == UserKind.Native)
        {
            nint p = Alloc(bytes, pageSize);
            sut.OwnNative(p);
            memory = new UserMemory.Native(p + offset, length);
        }
        else
        {
            // The pinned heap never moves an array, so the in-page offset computed here stays true.
            byte[] array = GC.AllocateArray<byte>(bytes, pinned: true);
            sut.KeepAlive(array);
            int start = StartFor(array, offset, pageSize);
            memory = kind == UserKind.ReadOnly
                ? new UserMemory.ReadOnly(new ReadOnlyMemory<byte>(array, start, Math.Max(length, 0)))
                : new UserMemory.Managed(new Memory<byte>(array, start, Math.Max(length, 0)));
        }

        IDmaSgReply reply = await sut.Ask(sut.Allocator, new GetUserptr(memory, dir, dev, Actor(sut, holder))).ConfigureAwait(false);
        if (reply is BufferCreated c)
        {
            sut.Bind(tag, c.Buffer);
        }

        return Outcome.Of(reply);
    }

    private static unsafe nint Alloc(int bytes, int alignment) => (nint)NativeMemory.AlignedAlloc((nuint)bytes, (nuint)alignment);

    private static unsafe int StartFor(byte[] array, int offset, int pageSize)
    {
        fixed (byte* p = array)
        {
            long inPage = (long)p & (pageSize - 1);
            return (int)(((offset - inPage) % pageSize + pageSize) % pageSize);
        }
    }
}

/// <summary>vb2_dma_sg_attach_dmabuf: AttachDmaBuf to the allocator; the importer makes attachment <c>att</c>.</summary>
public sealed class ImportOp(int tag, int att, int holder, int dbuf, long size, DmaDirection dir, string dev) : Op
{
    public override string Call => $"i{tag} = {H(holder)}.Import(d{dbuf}, {size}, {Dir(dir)}, \"{dev}\")   // makes attachment a{att}";

    public override IEnumerable<int> Uses => [dbuf];

    public override IEnumerable<int> Creates => [tag, att];

    protected override IEnumerable<(World, Outcome)> Model(World w)
    {
        if (!dir.IsValidForMapping() || size <= 0 || !w.Devs.TryGetValue(dev, out DevM? device))
        {
            return Fail(w, DmaSgError.InvalidArgument);
        }

        if (device.Removed)
        {
            return Fail(w, DmaSgError.DeviceGone);
        }

        DBufM d = w.DBufs[dbuf];
        if (d.Released)
        {
            return Fail(w, DmaSgError.UseAfterRelease);
        }

        if (d.Size < size)
        {
            return Fail(w, DmaSgError.Fault);
        }

        World next = w
            .Set(new ImpM(tag, dbuf, dev, size, dir, holder, ImpState.Attached, att, HasVaddr: false))
            .Set(new AttM(att, dbuf, dev, tag, ByImporter: true, DmaDirection.None, Alive: true))
            .Set(d with { Atts = d.Atts.Add(att) })
            .WithTag(Math.Max(tag, att));
        if (!w.HolderAlive(holder))
        {
            next = next.Later(new ImpHolderGone(tag));
        }

        return One(next, Outcome.Imported(size, d.Size));
    }

    protected override async Task<Outcome> Real(Sut.Sut sut)
    {
        IDmaSgReply reply = await sut.Ask(sut.Allocator, new AttachDmaBuf(Actor(sut, dbuf), size, dir, dev, Actor(sut, holder))).ConfigureAwait(false);
        if (reply is Imported i)
        {
            sut.BindImporterAtt(tag, att);
            sut.Bind(tag, i.Importer);
        }

        return Outcome.Of(reply);
    }
}

/// <summary>
/// Allocation failure at a chosen point: the <c>nth</c> page-block allocation of this Allocate fails (0: every one).
/// The reply must be OutOfMemory with nothing taken, or (when the compaction fell back to smaller blocks) a whole
/// buffer, which is put at once. Either way the world is unchanged afterwards.
/// </summary>
public sealed class AllocUnderFaultOp(int holder, long size, DmaDirection dir, string dev, int nth) : Op
{
    public static readonly Outcome Survived = new("Survived");

    public override string Call => nth == 0
        ? $"with every page-block allocation failing: {H(holder)}.Allocate({size}, {Dir(dir)}, \"{dev}\"), then put"
        : $"with page-block allocation #{nth} failing: {H(holder)}.Allocate({size}, {Dir(dir)}, \"{dev}\"), then put";

    public override bool RaceSafe => false;

    /// <summary>The fault must meet the page allocations, not a refused request or a map fault.</summary>
    protected override bool Holds(World w) =>
        w.HolderAlive(holder) && !w.Devs[dev].MapFault && !w.Devs[dev].Removed && PagesFor(size, w.PageSize) is int pages && pages <= w.FreePages;

    protected override IEnumerable<(World, Outcome)> Model(World w) => One(w, Survived);

    protected override async Task<Outcome> Real(Sut.Sut sut)
    {
        int pages = PagesFor(size, Environment.SystemPageSize)!.Value;
        Akka.Actor.IActorRef h = Actor(sut, holder);
        sut.Injector.Arm(nth);
        IDmaSgReply reply;
        try
        {
            reply = await sut.Ask(sut.Allocator, new Allocate(size, dir, dev, h)).ConfigureAwait(false);
        }
        finally
        {
            sut.Injector.Disarm();
        }

        switch (reply)
        {
            case DmaSgFailure { Error: DmaSgError.OutOfMemory }:
                return Survived;
            case BufferCreated c when nth == 0:
                await sut.Ask(c.Buffer, new Put(h)).ConfigureAwait(false);
                return new("BufferCreated although every block allocation failed");
            case BufferCreated c when c.NumPages != pages:
                await sut.Ask(c.Buffer, new Put(h)).ConfigureAwait(false);
                return new($"BufferCreated with {c.NumPages} pages, not {pages}");
            case BufferCreated c:
                IDmaSgReply put = await sut.Ask(c.Buffer, new Put(h)).ConfigureAwait(false);
                return put is RefDropped { RefCount: 0 } ? Survived : new($"put after the fault answered {Outcome.Of(put)}");
            default:
                return Outcome.Of(reply);
        }
    }
}

/// <summary>Map failure: the next DMA map on a device fails (a full bounce pool, no IOVA space).</summary>
public sealed class ArmMapFaultOp(string dev) : Op
{
    public override string Call => $"fault: the next map on \"{dev}\" fails";

    protected override IEnumerable<(World, Outcome)> Model(World w) => One(w.Set(w.Devs[dev] with { MapFault = true }), Outcome.Done);

    protected override Task<Outcome> Real(Sut.Sut sut)
    {
        sut.Devices.Faults(dev).ArmMapFault();
        return Task.FromResult(Outcome.Done);
    }
}

/// <summary>
/// Hot-unplug (RemoveDevice): no new refs or mappings from now on; what is live stays usable until released. The
/// checker reports the mappings still pending. The report's ref count may still include attachments that have
/// detached but not yet stopped (their device ref goes in PostStop).
/// </summary>
/// <remarks>
/// The allocator unplugs and takes the report first, then lets the checker look for pending mappings: under races
/// those are two steps, and a buffer freed in between is in the report but no longer pending for the checker.
/// </remarks>
public sealed class RemoveDeviceOp(string dev) : Op
{
    public override string Call => $"RemoveDevice(\"{dev}\")";

    public override IReadOnlyList<Op> LinearizationSteps => [new UnplugStep(dev), new CheckStep(dev)];

    public override int ReplyStep => 0;

    /// <summary>
    /// The report reads the device's counters while other buffers may be half way through their release (unmapped,
    /// device not yet put): under races only its kind is compared; the sequential properties check its numbers.
    /// </summary>
    public override Outcome UnderRaces(Outcome reply) =>
        reply.Text.StartsWith("DeviceRemoved(", StringComparison.Ordinal) && !reply.Text.Contains(", but ", StringComparison.Ordinal)
            ? new Outcome("DeviceRemoved(...)")
            : reply;

    protected override IEnumerable<(World, Outcome)> Model(World w)
    {
        if (!w.Devs.ContainsKey(dev))
        {
            return Fail(w, DmaSgError.InvalidArgument);
        }

        return Unplug(w, dev).Select(r => (Check(r.Item1, dev), r.Item2));
    }

    /// <summary>
    /// Also holds the reply to what the checker said during the call: every mapping the checker reported pending must
    /// be in the report (a report taken later than the checker's look could miss it).
    /// </summary>
    protected override async Task<Outcome> Real(Sut.Sut sut)
    {
        DmaApiChecker? checker = World.DeviceModels.Any(d => d.Name == dev) ? sut.Devices.Checker(dev) : null;
        int before = checker?.Violations.Count ?? 0;
        IDmaSgReply reply = await sut.Ask(sut.Allocator, new RemoveDevice(dev)).ConfigureAwait(false);
        if (reply is DeviceRemoved removed && checker is not null)
        {
            string[] missed = checker.Violations.Skip(before)
                .Where(v => v.Kind == DmaApiViolationKind.PendingOnRemove)
                .SelectMany(v => v.Owner.Split(", "))
                .Where(owner => !removed.Report.MappingOwners.Contains(owner))
                .ToArray();
            if (missed.Length > 0)
            {
                return new Outcome($"{Outcome.Of(reply)}, but the checker reported pending mappings it does not list: {string.Join(", ", missed)}");
            }
        }

        return Outcome.Of(reply);
    }

    private static int Mappings(World w, string dev) =>
        w.Bufs.Values.Count(b => !b.Released && b.Dev == dev) + w.Atts.Values.Count(a => a.Alive && a.Dev == dev && a.Dir != DmaDirection.None);

    /// <summary>The device refuses new work; the report of what is live (attachments still stopping may be counted).</summary>
    private static IEnumerable<(World, Outcome)> Unplug(World w, string dev)
    {
        int bufs = w.Bufs.Values.Count(b => !b.Released && b.Dev == dev);
        int atts = w.Atts.Values.Count(a => a.Alive && a.Dev == dev);
        int stopping = w.Atts.Values.Count(a => !a.Alive && a.Dev == dev && w.Pending.Contains(new DBufDropAtt(a.DBuf, a.Tag)));
        World next = w.Set(w.Devs[dev] with { Removed = true });
        return Enumerable.Range(0, stopping + 1).Select(extra => (next, Outcome.DeviceRemoved(bufs + atts + extra, Mappings(w, dev))));
    }

    /// <summary>The checker's look: one pending-on-remove report when mappings are still live.</summary>
    private static World Check(World w, string dev)
    {
        DevM d = w.Devs[dev];
        return Mappings(w, dev) > 0 ? w.Set(d with { Violations = d.Violations + 1 }) : w;
    }

    /// <summary>First step: unplug and report (the reply of the call, compared by kind only).</summary>
    private sealed class UnplugStep(string dev) : Op
    {
        public override string Call => $"RemoveDevice(\"{dev}\")";

        protected override IEnumerable<(World, Outcome)> Model(World w) =>
            w.Devs.ContainsKey(dev)
                ? Unplug(w, dev).Select(r => (r.Item1, new RemoveDeviceOp(dev).UnderRaces(r.Item2))).Take(1)
                : Fail(w, DmaSgError.InvalidArgument);

        protected override Task<Outcome> Real(Sut.Sut sut) => throw new NotSupportedException("a step of RemoveDevice");
    }

    /// <summary>Second step: the checker looks for pending mappings (answers nothing of its own).</summary>
    private sealed class CheckStep(string dev) : Op
    {
        public override string Call => $"(RemoveDevice(\"{dev}\"): the checker looks for pending mappings)";

        protected override IEnumerable<(World, Outcome)> Model(World w) =>
            One(w.Devs.ContainsKey(dev) ? Check(w, dev) : w, Outcome.Done);

        protected override Task<Outcome> Real(Sut.Sut sut) => throw new NotSupportedException("a step of RemoveDevice");
    }
}
