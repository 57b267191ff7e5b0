using DmaSg.Memory.Dma;
using DmaSg.Properties.Tests.Support;
using FsCheck;
using FsCheck.Fluent;

namespace DmaSg.Properties.Tests.Model;

/// <summary>
/// Generates the next call from the model: every public operation, legal and not. Sizes sit near page boundaries,
/// arenas are small (so OutOfMemory happens), all three device models are used, and now and then a call names an
/// object that is already released, comes from a dead holder, or asks for more than exists.
/// </summary>
public static class OpGen
{
    private static readonly DmaDirection[] Directions = [DmaDirection.ToDevice, DmaDirection.FromDevice, DmaDirection.Bidirectional];
    private static readonly StopMode[] StopModes = [StopMode.PoisonPill, StopMode.Kill, StopMode.Stop];

    /// <summary>
    /// The next call for <paramref name="w"/>. With <paramref name="raceSafe"/>, only calls whose replies the model
    /// can predict under any interleaving (for the parallel property).
    /// </summary>
    public static Gen<Op> Next(World w, bool raceSafe = false)
    {
        int P = w.PageSize;
        int[] holders = w.Holders.Keys.ToArray();
        int[] alive = w.Holders.Values.Where(h => h.Alive).Select(h => h.Tag).ToArray();
        Gen<int> holder = alive.Length == 0
            ? Gen.Elements(holders)
            : Gen.Frequency((9, Gen.Elements(alive)), (1, Gen.Elements(holders)));

        BufM[] bufs = w.Bufs.Values.ToArray();
        BufM[] liveBufs = bufs.Where(b => !b.Released).ToArray();
        DBufM[] dbufs = w.DBufs.Values.ToArray();
        DBufM[] liveDBufs = dbufs.Where(d => !d.Released).ToArray();
        AttM[] userAtts = w.Atts.Values.Where(a => !a.ByImporter).ToArray();
        AttM[] liveAtts = w.Atts.Values.Where(a => a.Alive).ToArray();
        ImpM[] imps = w.Imps.Values.ToArray();
        ImpM[] liveImps = imps.Where(i => i.State != ImpState.Stopped).ToArray();
        MmapM[] mmaps = w.Mmaps.Values.ToArray();
        int tag = w.NextTag;

        Gen<T> Pick<T>(T[] live, T[] all) =>
            live.Length == 0 ? Gen.Elements(all) : Gen.Frequency((9, Gen.Elements(live)), (1, Gen.Elements(all)));

        Gen<BufM> buf = Pick(liveBufs, bufs);
        Gen<DBufM> dbuf = Pick(liveDBufs, dbufs);
        Gen<ImpM> imp = Pick(liveImps, imps);
        Gen<DmaDirection> dir = Gen.Frequency((30, Gen.Elements(Directions)), (1, Gen.Constant(DmaDirection.None)));
        Gen<string> dev = Gen.Frequency((30, Gen.Elements(World.DeviceModels.Select(d => d.Name).ToArray())), (1, Gen.Constant("nodev")));
        Gen<string> realDev = Gen.Elements(World.DeviceModels.Select(d => d.Name).ToArray());

        var choices = new List<(int, Gen<Op>)>
        {
            (14, from h in holder from size in AllocSize(w) from d in dir from v in dev select (Op)new AllocOp(tag, h, size, d, v)),
            (3, from h in holder from kind in Gen.Frequency((6, Gen.Constant(UserKind.Managed)), (3, Gen.Constant(UserKind.ReadOnly)), (1, Gen.Constant(UserKind.Native)))
                from len in UserLength(P) from off in Gen.Elements(0, 0, 1, P - 1, P / 2) from d in dir from v in dev
                select (Op)new UserptrOp(tag, h, kind, len, off, d, v)),
            (2, Gen.Elements(World.DeviceModels.Select(d => d.Name).ToArray()).Select(v => (Op)new ArmMapFaultOp(v))),
        };

        if (bufs.Length > 0)
        {
            choices.AddRange(
            [
                (4, from h in holder from b in buf select (Op)new AddRefOp(h, b.Tag)),
                (9, from h in RefHolder(buf, holder) select (Op)new PutOp(h.Holder, h.Buf)),
                (2, from h in RefHolder(bufs.Any(b => b.Userptr) ? Pick(liveBufs.Where(b => b.Userptr).ToArray(), bufs.Where(b => b.Userptr).ToArray()) : buf, holder)
                    select (Op)new PutUserptrOp(h.Holder, h.Buf)),
                (7, from h in holder from b in buf select (Op)new ExportOp(tag, h, b.Tag)),
                (4, from h in holder from b in buf from len in NearPages(b.Size, P) select (Op)new MmapOp(tag, h, b.Tag, len)),
                (2, from b in buf from d in Gen.Elements(true, false) select (Op)new SyncOp(b.Tag, d)),
                (2, buf.Select(b => (Op)new VaddrOp(b.Tag))),
                (2, from b in buf from pg in Gen.Elements(-1, 0, b.Pages - 1, b.Pages, b.Pages / 2) select (Op)new KmapOp(b.Tag, pg)),
                (2, from b in buf from a in Access(b.Size, P) from wr in Gen.Elements(true, false)
                    select (Op)new CpuAccessOp(b.Tag, a.Offset, wr ? Math.Max(a.Count, 0) : a.Count, wr)),
                (1, from b in buf from c in Gen.Elements(true, false) select (Op)new BufferQueryOp(b.Tag, c)),
            ]);
            if (!raceSafe)
            {
                choices.Add((2, from b in buf from a in Access(b.Size, P) from wr in Gen.Elements(true, false)
                    select (Op)new DeviceAccessOp(b.Tag, a.Offset, wr ? Math.Max(a.Count, 0) : a.Count, wr)));
            }
        }

        if (mmaps.Length > 0)
        {
            MmapM[] liveMmaps = mmaps.Where(m => m.Live).ToArray();
            choices.Add((5, from m in Pick(liveMmaps, mmaps) from h in Gen.Frequency((8, Gen.Constant(m.Holder)), (1, holder))
                select (Op)new MunmapOp(h, m.Tag)));
        }

        if (dbufs.Length > 0)
        {
            choices.AddRange(
            [
                (3, from h in holder from d in dbuf select (Op)new DupOp(h, d.Tag)),
                (8, from h in DRefHolder(dbuf, holder) select (Op)new DPutOp(h.Holder, h.DBuf)),
                (7, from h in holder from d in dbuf from v in dev from min in MinSize(d.Size, P) select (Op)new AttachOp(tag, h, d.Tag, v, min)),
                (1, dbuf.Select(d => (Op)new VmapOp(d.Tag))),
                (1, from d in dbuf from pg in Gen.Elements(-1, 0, (int)(d.Size / P)) select (Op)new KmapOp(d.Buf, pg, d.Tag)),
                (2, from h in holder from d in dbuf from len in NearPages(d.Size, P) select (Op)new MmapOp(tag, h, d.Buf, len, d.Tag)),
                (5, from h in holder from d in dbuf from size in ImportSize(d.Size, P) from dr in dir from v in dev
                    select (Op)new ImportOp(tag, tag + 1, h, d.Tag, size, dr, v)),
            ]);
        }

        if (userAtts.Length > 0)
        {
            Gen<AttM> att = Pick(userAtts.Where(a => a.Alive).ToArray(), userAtts);
            choices.AddRange(
            [
                (8, from a in att from d in dir select (Op)new MapOp(a.Tag, d)),
                (2, from a in att from d in dir select (Op)new UnmapOp(a.Tag, d)),
                (4, att.Select(a => (Op)new DetachOp(a.Tag))),
            ]);
        }

        if (imps.Length > 0)
        {
            choices.AddRange(
            [
                (6, imp.Select(i => (Op)new PinOp(i.Tag))),
                (4, imp.Select(i => (Op)new UnpinOp(i.Tag))),
                (4, imp.Select(i => (Op)new ImpDetachOp(i.Tag))),
                (1, imp.Select(i => (Op)new ImpVaddrOp(i.Tag))),
                (1, from i in imp from q in Gen.Elements("Cookie", "Prepare", "Finish") select (Op)new ImpQueryOp(i.Tag, q)),
            ]);
            if (!raceSafe)
            {
                choices.Add((2, from i in imp from a in Access(i.Size, P) from wr in Gen.Elements(true, false)
                    select (Op)new ImpDeviceAccessOp(i.Tag, a.Offset, wr ? Math.Max(a.Count, 0) : a.Count, wr)));
            }
        }

        // Actor failure and holder death.
        var targets = new List<(int, Gen<(Target Kind, int Tag)>)>();
        if (liveBufs.Length > 0)
        {
            targets.Add((2, Gen.Elements(liveBufs).Select(b => (Target.Buffer, b.Tag))));
        }

        if (liveDBufs.Length > 0)
        {
            targets.Add((2, Gen.Elements(liveDBufs).Select(d => (Target.DmaBuf, d.Tag))));
        }

        if (liveAtts.Length > 0)
        {
            targets.Add((2, Gen.Elements(liveAtts).Select(a => (Target.Attachment, a.Tag))));
        }

        if (liveImps.Length > 0)
        {
            targets.Add((1, Gen.Elements(liveImps).Select(i => (Target.Importer, i.Tag))));
        }

        if (targets.Count > 0)
        {
            choices.Add((3, from t in Gen.Frequency(targets.ToArray()) from m in Gen.Elements(StopModes)
                select (Op)new KillOp(t.Kind, t.Tag, m)));
        }

        if (alive.Length > 0)
        {
            choices.Add((2, from h in Gen.Elements(alive) from m in Gen.Elements(StopModes) select (Op)new KillHolderOp(h, m)));
        }

        if (!raceSafe && alive.Length > 0)
        {
            // Allocation failure at every point of one Allocate: the Nth page-block allocation, or all of them.
            var ok = w.Devs.Values.Where(d => !d.MapFault).Select(d => d.Name).ToArray();
            if (ok.Length > 0 && w.FreePages > 0)
            {
                choices.Add((3, from h in Gen.Elements(alive) from pages in Gen.Choose(1, (int)Math.Min(w.FreePages, 16))
                    from d in Gen.Elements(Directions) from v in Gen.Elements(ok) from nth in Gen.Choose(0, pages + 1)
                    select (Op)new AllocUnderFaultOp(h, (long)pages * P, d, v, nth)));
            }
        }

        return Gen.Frequency(choices.ToArray());
    }

    private static Gen<(int Holder, int Buf)> RefHolder(Gen<BufM> buf, Gen<int> anyHolder) =>
        from b in buf
        let holders = b.Refs.Keys.Where(h => h < World.FirstObjectTag).ToArray()
        from h in holders.Length == 0 ? anyHolder : Gen.Frequency((8, Gen.Elements(holders)), (1, anyHolder))
        select (h, b.Tag);

    private static Gen<(int Holder, int DBuf)> DRefHolder(Gen<DBufM> dbuf, Gen<int> anyHolder) =>
        from d in dbuf
        let holders = d.Refs.Keys.ToArray()
        from h in holders.Length == 0 ? anyHolder : Gen.Frequency((8, Gen.Elements(holders)), (1, anyHolder))
        select (h, d.Tag);

    /// <summary>Sizes near page boundaries, mostly small, sometimes the whole arena or more, sometimes nonsense.</summary>
    private static Gen<long> AllocSize(World w)
    {
        int P = w.PageSize;
        int total = w.TotalPages;
        Gen<int> pages = Gen.Frequency(
            (6, Gen.Choose(1, Math.Min(4, total))),
            (3, Gen.Choose(1, Math.Max(1, total / 2))),
            (2, Gen.Choose(Math.Max(1, total / 2), total + 2)));
        return Gen.Frequency(
            (30, from k in pages from d in Gen.Elements(-1, 0, 0, 1) select Math.Max(1, ((long)k * P) + d)),
            (1, Gen.Elements(0L, -1L, -P, long.MaxValue, ((long)int.MaxValue * P) + 1)));
    }

    private static Gen<int> UserLength(int P) =>
        Gen.Frequency(
            (10, from k in Gen.Choose(1, 3) from d in Gen.Elements(-1, 0, 1) select Math.Max(1, (k * P) + d)),
            (2, Gen.Choose(1, 64)),
            (1, Gen.Constant(0)));

    /// <summary>Lengths around the page boundaries inside a size: 0, 1, a page +- 1, the size +- 1.</summary>
    private static Gen<long> NearPages(long size, int P) =>
        Gen.Frequency((20, Gen.Elements(1L, P - 1L, P, P + 1L, size - 1, size)), (2, Gen.Elements(size + 1, 0L)));

    private static Gen<long> MinSize(long size, int P) =>
        Gen.Frequency((6, Gen.Constant(0L)), (3, Gen.Elements(1L, P, size - 1, size)), (2, Gen.Elements(size + 1, -1L)));

    private static Gen<long> ImportSize(long size, int P) =>
        Gen.Frequency((6, Gen.Constant(size)), (3, Gen.Elements(1L, P, size - 1)), (1, Gen.Elements(size + 1, 0L, -1L)));

    private static Gen<(long Offset, int Count)> Access(long size, int P) =>
        Gen.Elements<(long, int)>(
            (0, 1), (0, P), (size - 1, 1), (size - 1, 2), (size, 0), (size, 1), (P - 1, 2), (0, (int)Math.Min(size, 3 * P)), (-1, 1), (0, -1));
}
