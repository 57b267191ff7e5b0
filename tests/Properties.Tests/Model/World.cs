using System.Collections.Immutable;
using DmaSg.Actors;
using DmaSg.Memory.Dma;

namespace DmaSg.Properties.Tests.Model;

/// <summary>
/// The model: a plain immutable description of what the actors should hold. Operations (see <c>Ops</c>) map a world
/// to the next world and the reply they predict; <see cref="Pending"/> holds the work the real system does later,
/// when DeathWatch notices a stop.
/// </summary>
public sealed record World(
    int PageSize,
    int TotalPages,
    ImmutableSortedDictionary<int, HolderM> Holders,
    ImmutableSortedDictionary<int, BufM> Bufs,
    ImmutableSortedDictionary<int, MmapM> Mmaps,
    ImmutableSortedDictionary<int, DBufM> DBufs,
    ImmutableSortedDictionary<int, AttM> Atts,
    ImmutableSortedDictionary<int, ImpM> Imps,
    ImmutableSortedDictionary<string, DevM> Devs,
    ImmutableSortedSet<Effect> Pending,
    int NextTag)
{
    /// <summary>Holders are tagged 1..9, everything else from here up.</summary>
    public const int FirstObjectTag = 10;

    public const string Coherent = "coherent";
    public const string Iommu = "iommu";
    public const string Bounce = "bounce";

    public static readonly IReadOnlyList<(string Name, DeviceModel Model)> DeviceModels =
        [(Coherent, DeviceModel.Coherent), (Iommu, DeviceModel.Iommu), (Bounce, DeviceModel.Bounce)];

    public static World Initial(int totalPages, int holders) => new(
        Environment.SystemPageSize,
        totalPages,
        Enumerable.Range(1, holders).ToImmutableSortedDictionary(h => h, h => new HolderM(h, Alive: true)),
        ImmutableSortedDictionary<int, BufM>.Empty,
        ImmutableSortedDictionary<int, MmapM>.Empty,
        ImmutableSortedDictionary<int, DBufM>.Empty,
        ImmutableSortedDictionary<int, AttM>.Empty,
        ImmutableSortedDictionary<int, ImpM>.Empty,
        DeviceModels.ToImmutableSortedDictionary(d => d.Name, d => new DevM(d.Name, d.Model, MapFault: false, Violations: 0), StringComparer.Ordinal),
        ImmutableSortedSet<Effect>.Empty,
        FirstObjectTag);

    public long PagesUsed => Bufs.Values.Where(b => !b.Released && !b.Userptr).Sum(b => (long)b.Pages);

    public long FreePages => TotalPages - PagesUsed;

    /// <summary>True when the tag names anything this world has seen created.</summary>
    public bool Exists(int tag) =>
        Holders.ContainsKey(tag) || Bufs.ContainsKey(tag) || Mmaps.ContainsKey(tag) || DBufs.ContainsKey(tag) ||
        Atts.ContainsKey(tag) || Imps.ContainsKey(tag);

    /// <summary>num_users: plain refs, dmabuf refs, and user mappings.</summary>
    public int NumUsers(BufM b) => b.Refs.Values.Sum() + Mmaps.Values.Count(m => m.Live && m.Buf == b.Tag);

    public int RefCount(DBufM d) => d.Refs.Values.Sum() + d.Atts.Count;

    public bool HolderAlive(int h) => Holders.TryGetValue(h, out HolderM? holder) && holder.Alive;

    public World WithTag(int tag) => tag >= NextTag ? this with { NextTag = tag + 1 } : this;

    public World Set(BufM b) => this with { Bufs = Bufs.SetItem(b.Tag, b) };

    public World Set(MmapM m) => this with { Mmaps = Mmaps.SetItem(m.Tag, m) };

    public World Set(DBufM d) => this with { DBufs = DBufs.SetItem(d.Tag, d) };

    public World Set(AttM a) => this with { Atts = Atts.SetItem(a.Tag, a) };

    public World Set(ImpM i) => this with { Imps = Imps.SetItem(i.Tag, i) };

    public World Set(DevM d) => this with { Devs = Devs.SetItem(d.Name, d) };

    public World Later(Effect e) => this with { Pending = Pending.Add(e) };

    // ---- Transitions shared by operations and effects ----

    /// <summary>Drops one plain ref of <paramref name="holder"/>; frees the buffer when it was the last.</summary>
    public World DropBufRef(BufM b, int holder)
    {
        int n = b.Refs.GetValueOrDefault(holder);
        b = b with { Refs = n > 1 ? b.Refs.SetItem(holder, n - 1) : b.Refs.Remove(holder) };
        return Set(b).FreeIfUnused(b.Tag);
    }

    /// <summary>The last ref went: unmap, drop the vaddr, pages home, device put, actor stops.</summary>
    public World FreeIfUnused(int buf)
    {
        BufM b = Bufs[buf];
        return !b.Released && NumUsers(b) == 0 ? Set(b with { Released = true, HasVaddr = false, Refs = b.Refs.Clear() }) : this;
    }

    /// <summary>The dmabuf's refcount reached zero: it stops, and its buffer drops the dmabuf's ref when it notices.</summary>
    public World ReleaseDBufIfUnused(int dbuf)
    {
        DBufM d = DBufs[dbuf];
        if (d.Released || RefCount(d) > 0)
        {
            return this;
        }

        return Set(d with { Released = true }).Later(new BufDropHolder(d.Buf, d.Tag));
    }

    /// <summary>An attachment stops (detach, its holder died, it was killed): unmap, device put, the dmabuf notices later.</summary>
    public World StopAtt(int att)
    {
        AttM a = Atts[att];
        if (!a.Alive)
        {
            return this;
        }

        World w = Set(a with { Alive = false, Dir = DmaDirection.None }).Later(new DBufDropAtt(a.DBuf, a.Tag));
        if (a.ByImporter && w.Imps[a.Holder].IsAttached)
        {
            w = w.Later(new ImpExporterGone(a.Holder));
        }

        return w;
    }

    /// <summary>An importer stops (detach done, its holder died, it was killed): its attachment, which watches it, stops later.</summary>
    public World StopImp(int imp)
    {
        ImpM i = Imps[imp];
        if (i.State == ImpState.Stopped)
        {
            return this;
        }

        World w = Set(i with { State = ImpState.Stopped, HasVaddr = false });
        return w.Atts.TryGetValue(i.Att, out AttM? a) && a.Alive ? w.Later(new AttHolderGone(a.Tag)) : w;
    }

    /// <summary>A holder dies: every object it holds something of will notice.</summary>
    public World KillHolder(int holder)
    {
        if (!HolderAlive(holder))
        {
            return this;
        }

        World w = this with { Holders = Holders.SetItem(holder, new HolderM(holder, Alive: false)) };
        foreach (BufM b in Bufs.Values.Where(b => !b.Released))
        {
            if (b.Refs.ContainsKey(holder) || Mmaps.Values.Any(m => m.Live && m.Buf == b.Tag && m.Holder == holder))
            {
                w = w.Later(new BufDropHolder(b.Tag, holder));
            }
        }

        foreach (DBufM d in DBufs.Values.Where(d => !d.Released && d.Refs.ContainsKey(holder)))
        {
            w = w.Later(new DBufDropHolder(d.Tag, holder));
        }

        foreach (AttM a in Atts.Values.Where(a => a.Alive && !a.ByImporter && a.Holder == holder))
        {
            w = w.Later(new AttHolderGone(a.Tag));
        }

        foreach (ImpM i in Imps.Values.Where(i => i.State != ImpState.Stopped && i.Holder == holder))
        {
            w = w.Later(new ImpHolderGone(i.Tag));
        }

        return w;
    }

    /// <summary>A dmabuf actor is stopped from outside: its attachments (children) stop first, importers notice later.</summary>
    public World KillDBuf(int dbuf, bool bufferNotices)
    {
        DBufM d = DBufs[dbuf];
        if (d.Released)
        {
            return this;
        }

        World w = this;
        foreach (AttM a in Atts.Values.Where(a => a.Alive && a.DBuf == dbuf))
        {
            w = w.StopAtt(a.Tag);
        }

        foreach (ImpM i in w.Imps.Values.Where(i => i.DBuf == dbuf && i.IsAttached))
        {
            w = w.Later(new ImpExporterGone(i.Tag));
        }

        w = w.Set(w.DBufs[dbuf] with { Released = true });
        return bufferNotices ? w.Later(new BufDropHolder(d.Buf, d.Tag)) : w;
    }

    /// <summary>A buffer actor is stopped from outside: its dmabufs stop first, then it releases everything it holds.</summary>
    public World KillBuf(int buf)
    {
        BufM b = Bufs[buf];
        if (b.Released)
        {
            return this;
        }

        World w = this;
        foreach (DBufM d in DBufs.Values.Where(d => d.Buf == buf && !d.Released))
        {
            w = w.KillDBuf(d.Tag, bufferNotices: false);
        }

        foreach (MmapM m in w.Mmaps.Values.Where(m => m.Live && m.Buf == buf))
        {
            w = w.Set(m with { Live = false });
        }

        return w.Set(w.Bufs[buf] with { Released = true, HasVaddr = false, Refs = b.Refs.Clear() });
    }

    // ---- Effects ----

    public World Apply(Effect e)
    {
        World w = this with { Pending = Pending.Remove(e) };
        switch (e)
        {
            case BufDropHolder(int buf, int holder):
            {
                BufM b = w.Bufs[buf];
                if (b.Released)
                {
                    return w;
                }

                foreach (MmapM m in w.Mmaps.Values.Where(m => m.Live && m.Buf == buf && m.Holder == holder))
                {
                    w = w.Set(m with { Live = false });
                }

                return w.Set(b with { Refs = b.Refs.Remove(holder) }).FreeIfUnused(buf);
            }

            case DBufDropHolder(int dbuf, int holder):
            {
                DBufM d = w.DBufs[dbuf];
                return d.Released ? w : w.Set(d with { Refs = d.Refs.Remove(holder) }).ReleaseDBufIfUnused(dbuf);
            }

            case DBufDropAtt(int dbuf, int att):
            {
                DBufM d = w.DBufs[dbuf];
                return d.Released ? w : w.Set(d with { Atts = d.Atts.Remove(att) }).ReleaseDBufIfUnused(dbuf);
            }

            case AttHolderGone(int att):
                return w.StopAtt(att);

            case ImpHolderGone(int imp):
                return w.StopImp(imp);

            case ImpExporterGone(int imp):
            {
                ImpM i = w.Imps[imp];
                return i.IsAttached ? w.Set(i with { State = ImpState.Detached, HasVaddr = false }) : w;
            }

            default:
                throw new InvalidOperationException($"unknown effect {e}");
        }
    }

    /// <summary>Applies pending effects (and the ones they cause) until none is left: the settled world.</summary>
    public World Drain()
    {
        World w = this;
        for (int guard = 0; !w.Pending.IsEmpty; guard++)
        {
            if (guard > 100_000)
            {
                throw new InvalidOperationException("effects do not settle");
            }

            w = w.Apply(w.Pending.Min!);
        }

        return w;
    }

    // ---- What the stats and the inspection should show, once settled ----

    /// <summary>
    /// The settled state as sorted lines, in the same words <see cref="Sut.Observation"/> uses for the real system,
    /// so a mismatch is a readable line diff.
    /// </summary>
    public IReadOnlyList<string> View()
    {
        var lines = new List<string> { $"pages used {PagesUsed}/{TotalPages}" };
        foreach (BufM b in Bufs.Values.Where(b => !b.Released))
        {
            var mmaps = Mmaps.Values.Where(m => m.Live && m.Buf == b.Tag).Select(m => $"m{m.Tag}@h{m.Holder}");
            lines.Add($"b{b.Tag}: users {NumUsers(b)} refs [{RefList(b.Refs)}] mmaps [{string.Join(",", mmaps)}] vaddr {b.HasVaddr}");
        }

        foreach (DBufM d in DBufs.Values.Where(d => !d.Released))
        {
            lines.Add($"d{d.Tag}: refs {RefCount(d)} holders [{RefList(d.Refs)}] atts [{string.Join(",", d.Atts.Select(a => $"a{a}"))}]");
        }

        foreach (AttM a in Atts.Values.Where(a => a.Alive))
        {
            lines.Add($"a{a.Tag}: d{a.DBuf} {a.Dev} holder {(a.ByImporter ? "i" : "h")}{a.Holder} dir {a.Dir} mapped {a.Dir != DmaDirection.None}");
        }

        foreach (ImpM i in Imps.Values.Where(i => i.State != ImpState.Stopped))
        {
            string att = i.IsAttached ? $"a{i.Att}" : "-";
            lines.Add($"i{i.Tag}: d{i.DBuf} holder h{i.Holder} {i.State} att {att} vaddr {i.HasVaddr}");
        }

        foreach (DevM dev in Devs.Values)
        {
            int bufs = Bufs.Values.Count(b => !b.Released && b.Dev == dev.Name);
            int atts = Atts.Values.Count(a => a.Alive && a.Dev == dev.Name);
            int mapped = Atts.Values.Count(a => a.Alive && a.Dev == dev.Name && a.Dir != DmaDirection.None);
            lines.Add($"dev {dev.Name}: refs {bufs + atts} mappings {bufs + mapped} violations {dev.Violations} removed {dev.Removed}");
        }

        int liveBufs = Bufs.Values.Count(b => !b.Released);
        int liveDBufs = DBufs.Values.Count(d => !d.Released);
        int liveAtts = Atts.Values.Count(a => a.Alive);
        int liveImps = Imps.Values.Count(i => i.State != ImpState.Stopped);
        int attMaps = Atts.Values.Count(a => a.Alive && a.Dir != DmaDirection.None);
        lines.Add($"actors: buffers {liveBufs} dmabufs {liveDBufs} attachments {liveAtts} importers {liveImps}");
        lines.Add($"allocator: buffers {liveBufs} importers {liveImps} mmaps {Mmaps.Values.Count(m => m.Live)} attachment-mappings {attMaps} reclaimed 0");
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>A canonical key of everything that matters (for the linearizability search's memo).</summary>
    public string Key() =>
        string.Join("|", View()) + "#" + string.Join(";", Pending) + "#" +
        string.Join(",", Holders.Values.Select(h => h.Alive ? "1" : "0")) + "#" +
        string.Join(",", Devs.Values.Select(d => d.MapFault ? "1" : "0")) + "#" +
        string.Join(",", Imps.Values.Select(i => $"{i.Tag}:{i.State}")) + "#" +
        string.Join(",", Bufs.Values.Where(b => b.Released).Select(b => b.Tag)) + "#" +
        string.Join(",", DBufs.Values.Where(d => d.Released).Select(d => d.Tag)) + "#" +
        string.Join(",", Mmaps.Values.Where(m => !m.Live).Select(m => m.Tag)) + "#" +
        string.Join(",", Atts.Values.Where(a => !a.Alive).Select(a => a.Tag));

    private static string RefList(ImmutableSortedDictionary<int, int> refs) =>
        string.Join(",", refs.Where(r => r.Value > 0).Select(r => $"{Names.Holderish(r.Key)}:{r.Value}"));
}
