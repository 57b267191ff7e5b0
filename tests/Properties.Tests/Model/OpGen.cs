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
/// <remarks>
/// FsCheck supplies one seed per call and plain code picks from it: building a tree of LINQ generators for every
/// step cost more than running the call on the actors. The machine shrinks by dropping calls, so the parameters
/// need no shrinker of their own.
/// </remarks>
public static class OpGen
{
    private static readonly DmaDirection[] Directions = [DmaDirection.ToDevice, DmaDirection.FromDevice, DmaDirection.Bidirectional];
    private static readonly StopMode[] StopModes = [StopMode.PoisonPill, StopMode.Kill, StopMode.Stop];
    private static readonly string[] DeviceNames = World.DeviceModels.Select(d => d.Name).ToArray();

    /// <summary>
    /// The next call for <paramref name="w"/>. With <paramref name="raceSafe"/>, only calls whose replies the model
    /// can predict under any interleaving (for the parallel property). <paramref name="faults"/> scales the weight of
    /// fault injection, actor kills and holder deaths.
    /// </summary>
    public static Gen<Op> Next(World w, bool raceSafe = false, int faults = 1) =>
        Gen.Choose(0, int.MaxValue).Select(seed => Pick(w, new Random(seed), raceSafe, faults));

    public static Op Pick(World w, Random rnd, bool raceSafe = false, int faults = 1) => new Picker(w, rnd, raceSafe).Pick(faults);

    private sealed class Picker(World w, Random rnd, bool raceSafe)
    {
        private readonly int P = w.PageSize;
        private readonly int tag = w.NextTag;
        private readonly int[] holders = w.Holders.Keys.ToArray();
        private readonly int[] alive = w.Holders.Values.Where(h => h.Alive).Select(h => h.Tag).ToArray();
        private readonly BufM[] bufs = w.Bufs.Values.ToArray();
        private readonly DBufM[] dbufs = w.DBufs.Values.ToArray();
        private readonly AttM[] userAtts = w.Atts.Values.Where(a => !a.ByImporter).ToArray();
        private readonly AttM[] liveAtts = w.Atts.Values.Where(a => a.Alive).ToArray();
        private readonly ImpM[] imps = w.Imps.Values.ToArray();
        private readonly MmapM[] mmaps = w.Mmaps.Values.ToArray();

        public Op Pick(int faults)
        {
            var choices = new List<(int Weight, Func<Op> Make)>
            {
                (10, Alloc),
                (3, Userptr),
                (1 * faults, () => new ArmMapFaultOp(One(DeviceNames))),
                (faults > 1 || raceSafe ? 1 : 0, () => new RemoveDeviceOp(rnd.Next(20) == 0 ? "nodev" : One(DeviceNames))),
            };

            if (bufs.Length > 0)
            {
                choices.AddRange(
                [
                    (4, () => new AddRefOp(Holder(), Buf().Tag)),
                    (9, () => { BufM b = Buf(); return new PutOp(RefHolder(b.Refs.Keys), b.Tag); }),
                    (2, () => { BufM b = Buf(userptr: true); return new PutUserptrOp(RefHolder(b.Refs.Keys), b.Tag); }),
                    (9, () => new ExportOp(tag, Holder(), Buf().Tag)),
                    (4, () => { BufM b = Buf(); return new MmapOp(tag, Holder(), b.Tag, NearPages(b.Size)); }),
                    (2, () => new SyncOp(Buf().Tag, rnd.Next(2) == 0)),
                    (2, () => new VaddrOp(Buf().Tag)),
                    (2, () => { BufM b = Buf(); return new KmapOp(b.Tag, One([-1, 0, b.Pages - 1, b.Pages, b.Pages / 2])); }),
                    (2, () => { BufM b = Buf(); (long o, int n, bool wr) = Access(b.Size); return new CpuAccessOp(b.Tag, o, n, wr); }),
                    (1, () => new BufferQueryOp(Buf().Tag, rnd.Next(2) == 0)),
                ]);
                if (!raceSafe)
                {
                    choices.Add((2, () => { BufM b = Buf(); (long o, int n, bool wr) = Access(b.Size); return new DeviceAccessOp(b.Tag, o, n, wr); }));
                }
            }

            if (mmaps.Length > 0)
            {
                choices.Add((5, () =>
                {
                    MmapM m = Live(mmaps.Where(m => m.Live).ToArray(), mmaps);
                    return new MunmapOp(rnd.Next(9) == 0 ? Holder() : m.Holder, m.Tag);
                }));
            }

            if (dbufs.Length > 0)
            {
                choices.AddRange(
                [
                    (3, () => new DupOp(Holder(), DBuf().Tag)),
                    (8, () => { DBufM d = DBuf(); return new DPutOp(RefHolder(d.Refs.Keys), d.Tag); }),
                    (8, () => { DBufM d = DBuf(); return new AttachOp(tag, Holder(), d.Tag, DevFor(d), MinSize(d.Size)); }),
                    (1, () => new VmapOp(DBuf().Tag)),
                    (1, () => { DBufM d = DBuf(); return new KmapOp(d.Buf, One([-1, 0, (int)(d.Size / P)]), d.Tag); }),
                    (2, () => { DBufM d = DBuf(); return new MmapOp(tag, Holder(), d.Buf, NearPages(d.Size), d.Tag); }),
                    (8, () => { DBufM d = DBuf(); return new ImportOp(tag, tag + 1, Holder(), d.Tag, ImportSize(d.Size), Dir(), DevFor(d)); }),
                ]);
            }

            if (userAtts.Length > 0)
            {
                choices.AddRange(
                [
                    (10, () => new MapOp(Att().Tag, Dir())),
                    (2, () => new UnmapOp(Att().Tag, Dir())),
                    (4, () => new DetachOp(Att().Tag)),
                ]);
            }

            if (imps.Length > 0)
            {
                choices.AddRange(
                [
                    (10, () => new PinOp(Imp().Tag)),
                    (5, () => new UnpinOp(Imp().Tag)),
                    (4, () => new ImpDetachOp(Imp().Tag)),
                    (2, () => new ImpVaddrOp(Imp().Tag)),
                    (1, () => new ImpQueryOp(Imp().Tag, One(["Cookie", "Prepare", "Finish"]))),
                ]);
                if (!raceSafe)
                {
                    choices.Add((3, () => { ImpM i = Imp(); (long o, int n, bool wr) = Access(i.Size); return new ImpDeviceAccessOp(i.Tag, o, n, wr); }));
                }
            }

            // Actor failure and holder death.
            var targets = new List<(Target, int)>();
            targets.AddRange(bufs.Where(b => !b.Released).Select(b => (Target.Buffer, b.Tag)));
            targets.AddRange(dbufs.Where(d => !d.Released).Select(d => (Target.DmaBuf, d.Tag)));
            targets.AddRange(liveAtts.Select(a => (Target.Attachment, a.Tag)));
            targets.AddRange(imps.Where(i => i.State != ImpState.Stopped).Select(i => (Target.Importer, i.Tag)));
            if (targets.Count > 0)
            {
                choices.Add((3 * faults, () => { (Target t, int x) = One(targets.ToArray()); return new KillOp(t, x, One(StopModes)); }));
            }

            if (alive.Length > 0)
            {
                choices.Add((1 * faults, () => new KillHolderOp(One(alive), One(StopModes))));
            }

            if (!raceSafe && alive.Length > 0 && w.FreePages > 0)
            {
                // Allocation failure at every point of one Allocate: the Nth page-block allocation, or all of them.
                string[] ok = w.Devs.Values.Where(d => !d.MapFault).Select(d => d.Name).ToArray();
                if (ok.Length > 0)
                {
                    choices.Add((1 * faults, () =>
                    {
                        int pages = rnd.Next(1, (int)Math.Min(w.FreePages, 16) + 1);
                        return new AllocUnderFaultOp(One(alive), (long)pages * P, One(Directions), One(ok), rnd.Next(0, pages + 2));
                    }));
                }
            }

            int total = choices.Sum(c => c.Weight);
            int k = rnd.Next(total);
            foreach ((int weight, Func<Op> make) in choices)
            {
                if (k < weight)
                {
                    return make();
                }

                k -= weight;
            }

            throw new InvalidOperationException("no choice");
        }

        private T One<T>(T[] items) => items[rnd.Next(items.Length)];

        /// <summary>Mostly a live object; one time in fifteen any, released or not (use after release).</summary>
        private T Live<T>(T[] live, T[] all) => live.Length > 0 && rnd.Next(15) != 0 ? One(live) : One(all);

        /// <summary>Mostly a live holder; one time in ten any (a dead holder's call).</summary>
        private int Holder() => alive.Length > 0 && rnd.Next(10) != 0 ? One(alive) : One(holders);

        /// <summary>A holder that holds a ref, mostly; else any (a put without a ref: a double put).</summary>
        private int RefHolder(IEnumerable<int> refs)
        {
            int[] h = refs.Where(r => r < World.FirstObjectTag).ToArray();
            return h.Length > 0 && rnd.Next(9) != 0 ? One(h) : Holder();
        }

        private BufM Buf(bool userptr = false)
        {
            BufM[] pool = userptr && bufs.Any(b => b.Userptr) ? bufs.Where(b => b.Userptr).ToArray() : bufs;
            return Live(pool.Where(b => !b.Released).ToArray(), pool);
        }

        private DBufM DBuf() => Live(dbufs.Where(d => !d.Released).ToArray(), dbufs);

        private AttM Att() => Live(userAtts.Where(a => a.Alive).ToArray(), userAtts);

        private ImpM Imp() => Live(imps.Where(i => i.State != ImpState.Stopped).ToArray(), imps);

        private DmaDirection Dir() => rnd.Next(30) == 0 ? DmaDirection.None : One(Directions);

        private string Dev() => rnd.Next(30) == 0 ? "nodev" : One(DeviceNames);

        /// <summary>
        /// A device to attach a dmabuf to. A table built for a coherent or IOMMU device may hold a segment longer than a
        /// bounce mapping (256 KiB); whether it does depends on which arena pages were contiguous, which the model does
        /// not track, so large tables are not attached to the bounce device.
        /// </summary>
        private string DevFor(DBufM d)
        {
            string dev = Dev();
            return dev == World.Bounce && d.Size > BounceDevice.MaxMappingSize && w.Bufs[d.Buf].Dev != World.Bounce ? World.Iommu : dev;
        }

        private Op Alloc()
        {
            long size;
            if (rnd.Next(31) == 0)
            {
                size = One([0L, -1L, -P, long.MaxValue, ((long)int.MaxValue * P) + 1]);
            }
            else
            {
                int total = w.TotalPages;
                int pages = rnd.Next(11) switch
                {
                    < 6 => rnd.Next(1, Math.Min(4, total) + 1),
                    < 9 => rnd.Next(1, Math.Max(1, total / 2) + 1),
                    _ => rnd.Next(Math.Max(1, total / 2), total + 3),
                };
                size = Math.Max(1, ((long)pages * P) + One([-1, 0, 0, 1]));
            }

            return new AllocOp(tag, Holder(), size, Dir(), Dev());
        }

        private Op Userptr()
        {
            UserKind kind = rnd.Next(10) switch
            {
                < 6 => UserKind.Managed,
                < 9 => UserKind.ReadOnly,
                _ => UserKind.Native,
            };
            int length = rnd.Next(13) switch
            {
                < 10 => Math.Max(1, (rnd.Next(1, 4) * P) + One([-1, 0, 1])),
                < 12 => rnd.Next(1, 65),
                _ => 0,
            };
            return new UserptrOp(tag, Holder(), kind, length, One([0, 0, 1, P - 1, P / 2]), Dir(), Dev());
        }

        /// <summary>Lengths around the page boundaries inside a size: a byte, a page +- 1, the size +- 1, nothing.</summary>
        private long NearPages(long size) =>
            rnd.Next(11) < 10 ? One([1L, P - 1L, P, P + 1L, size - 1, size]) : One([size + 1, 0L]);

        private long MinSize(long size) => rnd.Next(11) switch
        {
            < 6 => 0,
            < 9 => One([1L, P, size - 1, size]),
            _ => One([size + 1, -1L]),
        };

        private long ImportSize(long size) => rnd.Next(10) switch
        {
            < 6 => size,
            < 9 => One([1L, P, size - 1]),
            _ => One([size + 1, 0L, -1L]),
        };

        /// <summary>An access at the edges: first and last byte, across the end, across a page, and nonsense.</summary>
        private (long Offset, int Count, bool Write) Access(long size)
        {
            (long offset, int count) = One<(long, int)>(
                [(0, 1), (0, P), (size - 1, 1), (size - 1, 2), (size, 0), (size, 1), (P - 1, 2), (0, (int)Math.Min(size, 3 * P)), (-1, 1), (0, -1)]);
            bool write = rnd.Next(2) == 0;
            return (offset, write ? Math.Max(count, 0) : count, write);
        }
    }
}
