using DmaSg.Actors.Protocol;
using DmaSg.Memory;
using DmaSg.Memory.Dma;

namespace DmaSg.Properties.Tests.Model;

/// <summary>A call on a dmabuf actor: UseAfterRelease once the dmabuf is gone.</summary>
public abstract class DmaBufOp(int dbuf) : Op
{
    protected int DBuf => dbuf;

    public override IEnumerable<int> Uses => [dbuf];

    protected sealed override IEnumerable<(World, Outcome)> Model(World w)
    {
        DBufM d = w.DBufs[dbuf];
        return d.Released ? Fail(w, DmaSgError.UseAfterRelease) : Live(w, d);
    }

    protected abstract IEnumerable<(World, Outcome)> Live(World w, DBufM d);
}

/// <summary>get_dma_buf (AddRef on the dmabuf).</summary>
public sealed class DupOp(int holder, int dbuf) : DmaBufOp(dbuf)
{
    public override string Call => $"{H(holder)}.Dup(d{DBuf})";

    protected override IEnumerable<(World, Outcome)> Live(World w, DBufM d)
    {
        World next = w.Set(d with { Refs = d.Refs.SetItem(holder, d.Refs.GetValueOrDefault(holder) + 1) });
        if (!w.HolderAlive(holder))
        {
            next = next.Later(new DBufDropHolder(DBuf, holder));
        }

        return One(next, Outcome.RefTaken(next.RefCount(next.DBufs[DBuf])));
    }

    protected override async Task<Outcome> Real(Sut.Sut sut) =>
        Outcome.Of(await sut.Ask(Actor(sut, DBuf), new AddRef(Actor(sut, holder))).ConfigureAwait(false));
}

/// <summary>dma_buf_put (Put on the dmabuf): the last ref releases it, and its buffer ref goes when the buffer notices.</summary>
public sealed class DPutOp(int holder, int dbuf) : DmaBufOp(dbuf)
{
    public override string Call => $"{H(holder)}.Put(d{DBuf})";

    protected override IEnumerable<(World, Outcome)> Live(World w, DBufM d)
    {
        int n = d.Refs.GetValueOrDefault(holder);
        if (n == 0)
        {
            return Fail(w, DmaSgError.InvalidArgument);
        }

        World next = w.Set(d with { Refs = n > 1 ? d.Refs.SetItem(holder, n - 1) : d.Refs.Remove(holder) });
        int left = next.RefCount(next.DBufs[DBuf]);
        return One(next.ReleaseDBufIfUnused(DBuf), Outcome.RefDropped(left));
    }

    protected override async Task<Outcome> Real(Sut.Sut sut) =>
        Outcome.Of(await sut.Ask(Actor(sut, DBuf), new Put(Actor(sut, holder))).ConfigureAwait(false));
}

/// <summary>dma_buf_attach: Fault when the dmabuf is smaller than <c>minSize</c>.</summary>
public sealed class AttachOp(int tag, int holder, int dbuf, string dev, long minSize) : DmaBufOp(dbuf)
{
    public override string Call => $"a{tag} = {H(holder)}.Attach(d{DBuf}, \"{dev}\", minSize {minSize})";

    public override IEnumerable<int> Creates => [tag];

    protected override IEnumerable<(World, Outcome)> Live(World w, DBufM d)
    {
        if (minSize < 0)
        {
            return Fail(w, DmaSgError.InvalidArgument);
        }

        if (d.Size < minSize)
        {
            return Fail(w, DmaSgError.Fault);
        }

        if (!w.Devs.TryGetValue(dev, out DevM? device))
        {
            return Fail(w, DmaSgError.InvalidArgument);
        }

        if (device.Removed)
        {
            return Fail(w, DmaSgError.DeviceGone);
        }

        World next = w
            .Set(new AttM(tag, DBuf, dev, holder, ByImporter: false, DmaDirection.None, Alive: true))
            .Set(d with { Atts = d.Atts.Add(tag) })
            .WithTag(tag);
        if (!w.HolderAlive(holder))
        {
            next = next.Later(new AttHolderGone(tag));
        }

        return One(next, Outcome.AttachmentCreated(d.Size));
    }

    protected override async Task<Outcome> Real(Sut.Sut sut)
    {
        IDmaSgReply reply = await sut.Ask(Actor(sut, DBuf), new Attach(dev, minSize, Actor(sut, holder))).ConfigureAwait(false);
        if (reply is AttachmentCreated a)
        {
            sut.Bind(tag, a.Attachment);
        }

        return Outcome.Of(reply);
    }
}

/// <summary>vmap of the dmabuf: the exporter's vaddr.</summary>
public sealed class VmapOp(int dbuf) : DmaBufOp(dbuf)
{
    public override string Call => $"d{DBuf}.Vmap()";

    protected override IEnumerable<(World, Outcome)> Live(World w, DBufM d)
    {
        BufM b = w.Bufs[d.Buf];
        return One(w.Set(b with { HasVaddr = true }), Outcome.Vaddr(b.Size));
    }

    protected override async Task<Outcome> Real(Sut.Sut sut) =>
        Outcome.Of(await sut.Ask(Actor(sut, DBuf), GetVaddr.Instance).ConfigureAwait(false));
}

/// <summary>dma_buf_map_attachment: the cached mapping for an unchanged direction, else unmap and map anew (Io on failure).</summary>
public sealed class MapOp(int att, DmaDirection dir) : Op
{
    public override string Call => $"a{att}.Map({Dir(dir)})";

    public override IEnumerable<int> Uses => [att];

    public override string? MapsOn(World w) => w.Atts.TryGetValue(att, out AttM? a) ? a.Dev : null;

    protected override IEnumerable<(World, Outcome)> Model(World w)
    {
        AttM a = w.Atts[att];
        if (!a.Alive)
        {
            return Fail(w, DmaSgError.UseAfterRelease);
        }

        if (!dir.IsValidForMapping())
        {
            return Fail(w, DmaSgError.InvalidArgument);
        }

        if (a.Dir == dir)
        {
            return One(w, Outcome.AttachmentMapped(dir, cached: true));
        }

        DevM dev = w.Devs[a.Dev];
        if (dev.MapFault || dev.Removed)
        {
            // The old mapping was released before the new one failed (an armed fault fires before DeviceGone).
            return Fail(w.Set(dev with { MapFault = false }).Set(a with { Dir = DmaDirection.None }), DmaSgError.Io);
        }

        return One(w.Set(a with { Dir = dir }), Outcome.AttachmentMapped(dir, cached: false));
    }

    protected override async Task<Outcome> Real(Sut.Sut sut) =>
        Outcome.Of(await sut.Ask(Actor(sut, att), new MapAttachment(dir)).ConfigureAwait(false));
}

/// <summary>dma_buf_unmap_attachment: keeps the cached mapping (as the seed does).</summary>
public sealed class UnmapOp(int att, DmaDirection dir) : Op
{
    public override string Call => $"a{att}.Unmap({Dir(dir)})";

    public override IEnumerable<int> Uses => [att];

    protected override IEnumerable<(World, Outcome)> Model(World w) =>
        w.Atts[att].Alive ? One(w, Outcome.Done) : Fail(w, DmaSgError.UseAfterRelease);

    protected override async Task<Outcome> Real(Sut.Sut sut) =>
        Outcome.Of(await sut.Ask(Actor(sut, att), new UnmapAttachment(dir)).ConfigureAwait(false));
}

/// <summary>dma_buf_detach: unmaps if mapped and stops; the dmabuf drops the attachment's ref when it notices.</summary>
public sealed class DetachOp(int att) : Op
{
    public override string Call => $"a{att}.Detach()";

    public override IEnumerable<int> Uses => [att];

    protected override IEnumerable<(World, Outcome)> Model(World w) =>
        w.Atts[att].Alive ? One(w.StopAtt(att), Outcome.Done) : Fail(w, DmaSgError.UseAfterRelease);

    protected override async Task<Outcome> Real(Sut.Sut sut) =>
        Outcome.Of(await sut.Ask(Actor(sut, att), Detach.Instance).ConfigureAwait(false));
}
