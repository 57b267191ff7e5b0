using DmaSg.Memory.Arena;
using DmaSg.Memory.ScatterGather;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DmaSg.Memory.Tests.Arena;

public sealed class SizesTests
{
    private static int PageSize => TestArenas.PageSize;

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    public void ZeroOrNegativeIsInvalidArgument(long size)
    {
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => Sizes.PageAlign(size, PageSize)).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => Sizes.PageCount(size, PageSize)).Error);
    }

    [Fact]
    public void SizesRoundUpToWholePages()
    {
        Assert.Equal(PageSize, Sizes.PageAlign(1, PageSize));
        Assert.Equal(PageSize, Sizes.PageAlign(PageSize, PageSize));
        Assert.Equal(2L * PageSize, Sizes.PageAlign(PageSize + 1, PageSize));
        Assert.Equal(760, Sizes.PageCount(3_110_400, 4096)); // a 1080p NV12 frame
        Assert.Equal(759, Sizes.PageCount(759 * 4096, 4096));
    }

    [Fact]
    public void SizesAbove2GiBDoNotOverflowAnInt()
    {
        // The kernel's int overflow (14f28f5cea9e): 2 GiB + 1 byte is 524289 pages, not a negative count.
        Assert.Equal(524_289, Sizes.PageCount((2L << 30) + 1, 4096));
        Assert.Equal((5L << 30) + 4096, Sizes.PageAlign((5L << 30) + 1, 4096));
        Assert.Equal(int.MaxValue, Sizes.PageCount((long)int.MaxValue * 4096, 4096));
    }

    [Fact]
    public void SizesNearLongMaxValueFailInsteadOfWrappingToZero()
    {
        // PAGE_ALIGN wrapped to 0 in the kernel (defcdc5d89ce). The last size that rounds is MaxValue - (page - 1).
        long lastAligned = long.MaxValue - (PageSize - 1);
        Assert.Equal(lastAligned, Sizes.PageAlign(lastAligned, PageSize));
        Assert.Equal(lastAligned, Sizes.PageAlign(lastAligned - 1, PageSize));

        foreach (long size in new[] { lastAligned + 1, long.MaxValue - 1, long.MaxValue })
        {
            var ex = Assert.Throws<DmaSgException>(() => Sizes.PageAlign(size, PageSize));
            Assert.Equal(DmaSgError.InvalidArgument, ex.Error);
        }

        // More pages than a page list can hold is InvalidArgument too, not a truncated count.
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => Sizes.PageCount(lastAligned, PageSize)).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => Sizes.PageCount(((long)int.MaxValue * 4096) + 1, 4096)).Error);
    }

    private static Arbitrary<long> AnySize =>
        Arb.From(Gen.OneOf(
            ArbMap.Default.GeneratorFor<long>(),
            Gen.Choose(0, 1 << 20).Select(d => long.MaxValue - d),
            Gen.Choose(-4, 4).Select(d => (2L << 30) + d),
            Gen.Choose(int.MinValue, int.MaxValue).Select(i => ((long)i << 16) ^ i)));

    [Property(MaxTest = 500)]
    public Property PageAlignRoundsUpByLessThanAPageOrRefuses() =>
        Prop.ForAll(AnySize, size =>
        {
            bool fits = size > 0 && size <= long.MaxValue - (PageSize - 1);
            try
            {
                long aligned = Sizes.PageAlign(size, PageSize);
                Assert.True(fits);
                Assert.Equal(0, aligned % PageSize);
                Assert.InRange(aligned - size, 0, PageSize - 1);
            }
            catch (DmaSgException ex)
            {
                Assert.False(fits);
                Assert.Equal(DmaSgError.InvalidArgument, ex.Error);
            }
        });

    [Fact]
    public void ABufferAbove2GiBWorksOnASparseArenaThatTouchesNothingItDoesNotNeed()
    {
        // A 3 GiB memfd arena costs no memory until pages are written: ftruncate and mmap are lazy,
        // and pages that were never handed out are not memset. So a 2.25 GiB buffer is cheap to test.
        // (Resident memory is bounded by 4 MiB, so shmem transparent huge pages cannot break the checks.)
        long arenaBytes = 3L << 30;
        long bufferBytes = (2L << 30) + (256L << 20);
        using PageArena arena = TestArenas.Create(arenaBytes / PageSize, 10);
        FreeListSnapshot initial = arena.Snapshot();
        Assert.True(TestArenas.RssKbOfMemfd(arena.Name) <= 4096, "the arena touched its memory when it was created");

        int[] pages = CompactedAllocation.AllocateBytes(arena, bufferBytes);

        Assert.Equal(bufferBytes / PageSize, pages.Length);
        Assert.Equal((arenaBytes - bufferBytes) / PageSize, arena.FreePageCount);
        Assert.Equal(0, arena.PagesZeroed);
        Assert.True(TestArenas.RssKbOfMemfd(arena.Name) <= 4096, "allocating fresh pages touched them");

        SgTable sgt = SgTable.FromArenaPages(arena, pages, 0, bufferBytes, SgTable.DefaultMaxSegment(PageSize), "big");
        Assert.Equal(bufferBytes, sgt.Length);
        Assert.Equal(bufferBytes, sgt.Entries.ToArray().Sum(e => e.Length));
        Assert.Equal(1, sgt.OrigNents); // one run of 2.25 GiB, below the 4 GiB - 1 page segment limit

        // The last page lies past 2 GiB in the memfd: its offset and address must not have wrapped.
        int last = pages[^1];
        Assert.Equal(bufferBytes - PageSize, arena.OffsetOf(last) - arena.OffsetOf(pages[0]));
        Assert.True(arena.OffsetOf(last) > int.MaxValue);
        TestArenas.Scribble(arena, last, 9);
        byte[] viaFd = new byte[PageSize];
        using (var view = new Microsoft.Win32.SafeHandles.SafeFileHandle(arena.Fd.DangerousGetHandle(), ownsHandle: false))
        {
            Assert.Equal(PageSize, RandomAccess.Read(view, viaFd, arena.OffsetOf(last)));
        }

        Assert.True(arena.PageSpan(last).SequenceEqual(viaFd));

        // Give the written page back and take a page again: it is the same one, cleared by a memset of
        // that page alone. (Recycling the whole buffer would memset all of it: a page handed out once
        // counts as dirty, as with the kernel's __GFP_ZERO, because nobody knows which pages were written.)
        arena.FreePage(last);
        Assert.True(arena.TryAllocPages(0, out int again));
        Assert.Equal(last, again);
        Assert.Equal(1, arena.PagesZeroed);
        Assert.True(TestArenas.IsZero(arena, last));
        Assert.True(TestArenas.RssKbOfMemfd(arena.Name) <= 4096);

        arena.FreePageList(pages);
        Assert.Equal(arena.TotalPages, arena.FreePageCount);
        Assert.Equal(initial, arena.Snapshot());
        arena.CheckInvariants();
    }
}
