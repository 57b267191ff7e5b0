using DmaSg.Memory.ScatterGather;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DmaSg.Memory.Tests.ScatterGather;

/// <summary>sg_alloc_table_from_pages over any page list, first-page offset, length and max segment.</summary>
public sealed class SgTableProperties
{
    private static readonly int PageSize = Environment.SystemPageSize;

    /// <summary>
    /// A page list built from runs (a start page and a length; runs may touch, overlap or go backwards),
    /// a first-page offset, the bytes wanted as a fraction of what fits, and a max segment in pages (0 = default).
    /// </summary>
    public sealed record Case(int[] Pages, int Offset, long Size, int MaxSegmentPages)
    {
        public long MaxSegment => MaxSegmentPages == 0 ? SgTable.DefaultMaxSegment(PageSize) : (long)MaxSegmentPages * PageSize;

        public override string ToString() =>
            $"pages [{string.Join(",", Pages)}], offset {Offset}, size {Size}, max segment {MaxSegmentPages} pages";
    }

    private static Gen<int[]> PageLists =>
        from runs in Gen.Choose(1, 8).SelectMany(n => Gen.ArrayOf(
            from start in Gen.Choose(0, 64)
            from length in Gen.Frequency((3, Gen.Choose(1, 4)), (1, Gen.Choose(5, 24)))
            select Enumerable.Range(start, length).ToArray(), n))
        select runs.SelectMany(r => r).ToArray();

    private static Arbitrary<Case> Cases =>
        Arb.From(
            from pages in PageLists
            from offset in Gen.Frequency((2, Gen.Constant(0)), (1, Gen.Choose(1, PageSize - 1)))
            from permille in Gen.Choose(1, 1000)
            from maxSeg in Gen.Frequency((2, Gen.Constant(0)), (3, Gen.Choose(1, 8)))
            let room = ((long)pages.Length * PageSize) - offset
            select new Case(pages, offset, Math.Max(1, room * permille / 1000), maxSeg));

    [Property(MaxTest = 500)]
    public Property TheMergeIsOptimalAndCoversExactlyTheBytesAsked() =>
        Prop.ForAll(Cases, c =>
        {
            long[] phys = c.Pages.Select(p => (long)p * PageSize).ToArray();
            SgTable sgt = SgTable.Build(phys, p => (nint)(0x10_0000_0000L + p), PageSize, c.Offset, c.Size, c.MaxSegment, "prop");

            // The pages the bytes reach; each maximal run of consecutive pages among them needs
            // ceil(run / max-segment pages) entries, and the kernel's greedy merge uses exactly that many.
            int used = (int)((c.Offset + c.Size + PageSize - 1) / PageSize);
            long maxPages = c.MaxSegment / PageSize;
            int expected = 0;
            int run = 1;
            for (int i = 1; i <= used; i++)
            {
                if (i < used && phys[i] == phys[i - 1] + PageSize)
                {
                    run++;
                    continue;
                }

                expected += (int)((run + maxPages - 1) / maxPages);
                run = 1;
            }

            Assert.Equal(expected, sgt.OrigNents);
            Assert.Equal(c.Size, sgt.Length);
            Assert.Equal(c.Offset, sgt.FirstOffset);

            // Walk the entries byte range by byte range: each one is the next bytes of the buffer,
            // lies inside one run of consecutive pages, and stays within the max segment in pages.
            long logical = 0;
            foreach (SgEntry e in sgt.Entries)
            {
                Assert.True(e.Length > 0);
                long at = c.Offset + logical;
                int page = (int)(at / PageSize);
                Assert.Equal(phys[page] + (at % PageSize), e.Phys);
                Assert.Equal((nint)(0x10_0000_0000L + e.Phys), e.Cpu);
                int lastPage = (int)((at + e.Length - 1) / PageSize);
                for (int p = page + 1; p <= lastPage; p++)
                {
                    Assert.Equal(phys[p - 1] + PageSize, phys[p]);
                }

                Assert.True(lastPage - page + 1 <= maxPages, $"an entry spans {lastPage - page + 1} pages, max {maxPages}");
                logical += e.Length;
            }

            Assert.Equal(c.Size, logical);

            // And a clone is the same table, independent of the original's mapping.
            SgTable copy = sgt.Clone();
            Assert.Equal(sgt.Entries.ToArray(), copy.Entries.ToArray());
            sgt.SetDmaMapping([new DmaSegment(0, c.Size)]);
            Assert.False(copy.IsMapped);
        });
}
