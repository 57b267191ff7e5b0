using System.Collections.Immutable;
using DmaSg.Actors.Protocol;
using DmaSg.Memory;
using DmaSg.Memory.Dma;

namespace DmaSg.Properties.Tests.Model;

/// <summary>A call on a buffer actor: UseAfterRelease once the buffer is gone, whatever the call.</summary>
public abstract class BufferOp(int buf) : Op
{
    protected int Buf => buf;

    public override IEnumerable<int> Uses => [buf];

    protected sealed override IEnumerable<(World, Outcome)> Model(World w)
    {
        BufM b = w.Bufs[buf];
        return b.Released ? Fail(w, DmaSgError.UseAfterRelease) : Live(w, b);
    }

    protected abstract IEnumerable<(World, Outcome)> Live(World w, BufM b);

    protected override async Task<Outcome> Real(Sut.Sut sut) =>
        Outcome.Of(await sut.Ask(Actor(sut, buf), Request(sut)).ConfigureAwait(false));

    protected abstract IDmaSgRequest Request(Sut.Sut sut);
}

/// <summary>refcount_inc for another holder (AddRef).</summary>
public sealed class AddRefOp(int holder, int buf) : BufferOp(buf)
{
    public override string Call => $"{H(holder)}.AddRef(b{Buf})";

    protected override IEnumerable<(World, Outcome)> Live(World w, BufM b)
    {
        World next = w.Set(b with { Refs = b.Refs.SetItem(holder, b.Refs.GetValueOrDefault(holder) + 1) });
        if (!w.HolderAlive(holder))
        {
            next = next.Later(new BufDropHolder(Buf, holder));
        }

        return One(next, Outcome.RefTaken(next.NumUsers(next.Bufs[Buf])));
    }

    protected override IDmaSgRequest Request(Sut.Sut sut) => new AddRef(Actor(sut, holder));
}

/// <summary>vb2_dma_sg_put (Put): InvalidArgument when the holder holds no plain ref (a double put).</summary>
public sealed class PutOp(int holder, int buf) : BufferOp(buf)
{
    public override string Call => $"{H(holder)}.Put(b{Buf})";

    protected override IEnumerable<(World, Outcome)> Live(World w, BufM b)
    {
        if (b.Refs.GetValueOrDefault(holder) == 0)
        {
            return Fail(w, DmaSgError.InvalidArgument);
        }

        World next = w.DropBufRef(b, holder);
        BufM after = next.Bufs[Buf];
        return One(next, Outcome.RefDropped(after.Released ? 0 : next.NumUsers(after)));
    }

    protected override IDmaSgRequest Request(Sut.Sut sut) => new Put(Actor(sut, holder));
}

/// <summary>vb2_dma_sg_put_userptr (PutUserptr): the dirty pages come back when it frees the buffer.</summary>
public sealed class PutUserptrOp(int holder, int buf) : BufferOp(buf)
{
    public override string Call => $"{H(holder)}.PutUserptr(b{Buf})";

    protected override IEnumerable<(World, Outcome)> Live(World w, BufM b)
    {
        if (!b.Userptr || b.Refs.GetValueOrDefault(holder) == 0)
        {
            return Fail(w, DmaSgError.InvalidArgument);
        }

        World next = w.DropBufRef(b, holder);
        BufM after = next.Bufs[Buf];
        int dirty = after.Released && b.Dir.DeviceWrites() ? b.Pages : 0;
        return One(next, Outcome.UserptrReleased(dirty, after.Released ? 0 : next.NumUsers(after)));
    }

    protected override IDmaSgRequest Request(Sut.Sut sut) => new PutUserptr(Actor(sut, holder));
}

/// <summary>vb2_dma_sg_get_dmabuf (ExportDmaBuf): the dmabuf holds a buffer ref of its own.</summary>
public sealed class ExportOp(int tag, int holder, int buf) : BufferOp(buf)
{
    public override string Call => $"d{tag} = {H(holder)}.Export(b{Buf})";

    public override IEnumerable<int> Creates => [tag];

    protected override IEnumerable<(World, Outcome)> Live(World w, BufM b)
    {
        if (b.Userptr)
        {
            return Fail(w, DmaSgError.InvalidArgument);
        }

        World next = w
            .Set(new DBufM(tag, Buf, b.Size, Released: false, ImmutableSortedDictionary<int, int>.Empty.Add(holder, 1), ImmutableSortedSet<int>.Empty))
            .Set(b with { Refs = b.Refs.Add(tag, 1) })
            .WithTag(tag);
        if (!w.HolderAlive(holder))
        {
            next = next.Later(new DBufDropHolder(tag, holder));
        }

        return One(next, Outcome.Exported(b.Size));
    }

    protected override async Task<Outcome> Real(Sut.Sut sut)
    {
        IDmaSgReply reply = await sut.Ask(Actor(sut, Buf), new ExportDmaBuf(Actor(sut, holder))).ConfigureAwait(false);
        if (reply is Exported e)
        {
            sut.Bind(tag, e.DmaBuf);
        }

        return Outcome.Of(reply);
    }

    protected override IDmaSgRequest Request(Sut.Sut sut) => throw new NotSupportedException();
}

/// <summary>mmap of the first <c>length</c> bytes, on the buffer or relayed by one of its dmabufs; the mapping holds a ref.</summary>
public sealed class MmapOp(int tag, int holder, int buf, long length, int viaDBuf = 0) : Op
{
    public override string Call => $"m{tag} = {H(holder)}.Mmap({(viaDBuf == 0 ? $"b{buf}" : $"d{viaDBuf}")}, {length})";

    public override IEnumerable<int> Uses => viaDBuf == 0 ? [buf] : [viaDBuf];

    public override IEnumerable<int> Creates => [tag];

    /// <summary>The buffer side of mmap (OnMmap), shared by the direct and the relayed call.</summary>
    public static (World, Outcome) OnBuffer(World w, BufM b, int tag, int holder, long length)
    {
        if (b.Released)
        {
            return (w, Outcome.Err(DmaSgError.UseAfterRelease));
        }

        if (b.Userptr || length <= 0 || length > b.Size)
        {
            return (w, Outcome.Err(DmaSgError.InvalidArgument));
        }

        World next = w.Set(new MmapM(tag, b.Tag, holder, length, Live: true)).WithTag(tag);
        if (!w.HolderAlive(holder))
        {
            next = next.Later(new BufDropHolder(b.Tag, holder));
        }

        return (next, Outcome.Mmapped(length, (long)PagesFor(length, w.PageSize)!.Value * w.PageSize));
    }

    protected override IEnumerable<(World, Outcome)> Model(World w)
    {
        if (viaDBuf != 0 && w.DBufs[viaDBuf].Released)
        {
            return Fail(w, DmaSgError.UseAfterRelease);
        }

        return [OnBuffer(w, w.Bufs[buf], tag, holder, length)];
    }

    protected override async Task<Outcome> Real(Sut.Sut sut)
    {
        IDmaSgReply reply = await sut.Ask(Actor(sut, viaDBuf == 0 ? buf : viaDBuf), new Mmap(length, Actor(sut, holder))).ConfigureAwait(false);
        if (reply is Mmapped m)
        {
            sut.BindMmap(tag, buf, m.MappingId);
        }

        return Outcome.Of(reply);
    }
}

/// <summary>munmap (Munmap to the buffer): InvalidArgument for a mapping that is gone or belongs to another holder.</summary>
public sealed class MunmapOp(int holder, int mmap) : Op
{
    public override string Call => $"{H(holder)}.Munmap(m{mmap})";

    public override IEnumerable<int> Uses => [mmap];

    protected override IEnumerable<(World, Outcome)> Model(World w)
    {
        MmapM m = w.Mmaps[mmap];
        BufM b = w.Bufs[m.Buf];
        if (b.Released)
        {
            return Fail(w, DmaSgError.UseAfterRelease);
        }

        if (!m.Live || m.Holder != holder)
        {
            return Fail(w, DmaSgError.InvalidArgument);
        }

        World next = w.Set(m with { Live = false }).FreeIfUnused(b.Tag);
        BufM after = next.Bufs[b.Tag];
        return One(next, Outcome.RefDropped(after.Released ? 0 : next.NumUsers(after)));
    }

    protected override async Task<Outcome> Real(Sut.Sut sut)
    {
        sut.TryGetMmap(mmap, out (int Buf, long Id) m);
        return Outcome.Of(await sut.Ask(Actor(sut, m.Buf), new Munmap(m.Id, Actor(sut, holder))).ConfigureAwait(false));
    }
}

/// <summary>prepare / finish: the syncs for the device and for the CPU.</summary>
public sealed class SyncOp(int buf, bool forDevice) : BufferOp(buf)
{
    public override string Call => $"b{Buf}.{(forDevice ? "Prepare" : "Finish")}()";

    protected override IEnumerable<(World, Outcome)> Live(World w, BufM b) => One(w, Outcome.Done);

    protected override IDmaSgRequest Request(Sut.Sut sut) => forDevice ? Prepare.Instance : Finish.Instance;
}

/// <summary>vaddr: cached until the buffer is freed (a USERPTR buffer is the caller's own range, nothing is mapped).</summary>
public sealed class VaddrOp(int buf) : BufferOp(buf)
{
    public override string Call => $"b{Buf}.Vaddr()";

    protected override IEnumerable<(World, Outcome)> Live(World w, BufM b) =>
        One(w.Set(b with { HasVaddr = !b.Userptr }), Outcome.Vaddr(b.Size));

    protected override IDmaSgRequest Request(Sut.Sut sut) => GetVaddr.Instance;
}

/// <summary>kmap of one page, bounds-checked; on the buffer, or relayed by a dmabuf.</summary>
public sealed class KmapOp(int buf, int page, int viaDBuf = 0) : Op
{
    public override string Call => $"{(viaDBuf == 0 ? $"b{buf}" : $"d{viaDBuf}")}.Kmap({page})";

    public override IEnumerable<int> Uses => viaDBuf == 0 ? [buf] : [viaDBuf];

    protected override IEnumerable<(World, Outcome)> Model(World w)
    {
        BufM b = w.Bufs[buf];
        if ((viaDBuf != 0 && w.DBufs[viaDBuf].Released) || b.Released)
        {
            return Fail(w, DmaSgError.UseAfterRelease);
        }

        return page < 0 || page >= b.Pages ? Fail(w, DmaSgError.Fault) : One(w, Outcome.Kmapped);
    }

    protected override async Task<Outcome> Real(Sut.Sut sut) =>
        Outcome.Of(await sut.Ask(Actor(sut, viaDBuf == 0 ? buf : viaDBuf), new Kmap(page)).ConfigureAwait(false));
}

/// <summary>CPU read or write of <c>count</c> bytes at <c>offset</c> (Fault outside the buffer or on read-only memory).</summary>
public sealed class CpuAccessOp(int buf, long offset, int count, bool write) : BufferOp(buf)
{
    public override string Call => $"b{Buf}.{(write ? "Write" : "Read")}({offset}, {count})";

    protected override IEnumerable<(World, Outcome)> Live(World w, BufM b)
    {
        if (count < 0)
        {
            return Fail(w, DmaSgError.InvalidArgument);
        }

        if (offset < 0 || offset > b.Size || count > b.Size - offset || (write && b.ReadOnly))
        {
            return Fail(w, DmaSgError.Fault);
        }

        return One(w, write ? Outcome.BytesWritten(count) : Outcome.BytesRead(count));
    }

    protected override IDmaSgRequest Request(Sut.Sut sut) =>
        write ? new WriteBytes(offset, new byte[count]) : new ReadBytes(offset, count);
}

/// <summary>The buffer's own device reads or writes through the buffer's mapping (the DMA-API checker watches the direction).</summary>
public sealed class DeviceAccessOp(int buf, long offset, int count, bool write) : BufferOp(buf)
{
    public override string Call => $"b{Buf}.Device{(write ? "Write" : "Read")}({offset}, {count})";

    public override bool RaceSafe => false;

    protected override IEnumerable<(World, Outcome)> Live(World w, BufM b)
    {
        if (count < 0)
        {
            return Fail(w, DmaSgError.InvalidArgument);
        }

        if (offset < 0 || offset > b.Size || count > b.Size - offset)
        {
            return Fail(w, DmaSgError.Fault);
        }

        return [DeviceAccess(w, b.Dev, Buf, b.Dir, write, count)];
    }

    protected override IDmaSgRequest Request(Sut.Sut sut) =>
        write ? new DmaWrite(offset, new byte[count]) : new DmaRead(offset, count);
}

/// <summary>num_users and cookie: reads that change nothing.</summary>
public sealed class BufferQueryOp(int buf, bool cookie) : BufferOp(buf)
{
    public override string Call => $"b{Buf}.{(cookie ? "Cookie" : "NumUsers")}()";

    protected override IEnumerable<(World, Outcome)> Live(World w, BufM b) =>
        One(w, cookie ? Outcome.Cookie(mapped: true) : Outcome.NumUsers(w.NumUsers(b)));

    protected override IDmaSgRequest Request(Sut.Sut sut) => cookie ? GetCookie.Instance : GetNumUsers.Instance;
}
