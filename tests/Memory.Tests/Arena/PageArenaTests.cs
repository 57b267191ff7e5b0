using DmaSg.Memory.Arena;

namespace DmaSg.Memory.Tests.Arena;

public sealed class PageArenaTests
{
    private static int PageSize => TestArenas.PageSize;

    private static int[][] Heads(params int[][] perOrder) => perOrder;

    [Fact]
    public void PageSizeComesFromTheOs()
    {
        using PageArena arena = TestArenas.Create(4, 2);
        Assert.Equal(Environment.SystemPageSize, arena.PageSize);
        Assert.Equal(arena.PageSize, 1 << arena.PageShift);
        Assert.Equal(4L * PageSize, arena.SizeInBytes);
    }

    [Fact]
    public void AFreshArenaIsCarvedIntoTheLargestAlignedBlocks()
    {
        // 13 pages with max order 2: three blocks of 4 pages and one single page.
        using PageArena arena = TestArenas.Create(13, 2);

        Assert.Equal(13, arena.TotalPages);
        Assert.Equal(13, arena.FreePageCount);
        Assert.Equal(0, arena.AllocatedPageCount);
        Assert.Equal([1, 0, 3], arena.FreeBlocksPerOrder());
        Assert.Equal(2, arena.LargestFreeOrder);
        Assert.Equal(Heads([12], [], [0, 4, 8]), arena.Snapshot().Heads);
        arena.CheckInvariants();
    }

    [Fact]
    public void TheSizeIsRoundedDownToWholePages()
    {
        using var arena = new PageArena(new PageArenaOptions
        {
            ArenaSize = (5L * PageSize) + 17,
            MaxOrder = 3,
            Name = TestArenas.UniqueName(),
        });

        Assert.Equal(5, arena.TotalPages);
        Assert.Equal([1, 0, 1, 0], arena.FreeBlocksPerOrder());
    }

    [Theory]
    [InlineData(0L, 3)]
    [InlineData(-4096L, 3)]
    [InlineData(1L, 3)]
    [InlineData(long.MaxValue, 3)]
    [InlineData(65536L, -1)]
    [InlineData(65536L, 21)]
    public void BadOptionsAreInvalidArgumentAndOpenNothing(long size, int maxOrder)
    {
        string name = TestArenas.UniqueName();
        var ex = Assert.Throws<DmaSgException>(() => new PageArena(new PageArenaOptions { ArenaSize = size, MaxOrder = maxOrder, Name = name }));

        Assert.Equal(DmaSgError.InvalidArgument, ex.Error);
        Assert.Equal(0, TestArenas.FdsOfMemfd(name));
        Assert.Equal(0, TestArenas.MappingsOfMemfd(name));
    }

    [Fact]
    public void AllocPagesSplitsTheLowestBlockAndKeepsTheUpperHalvesFree()
    {
        using PageArena arena = TestArenas.Create(8, 3);

        Assert.True(arena.TryAllocPages(0, out int page));

        Assert.Equal(0, page);
        Assert.True(arena.IsAllocated(0));
        Assert.Equal(7, arena.FreePageCount);
        Assert.Equal(Heads([1], [2], [4], []), arena.Snapshot().Heads);
        arena.CheckInvariants();

        arena.FreePage(page);
        Assert.Equal(Heads([], [], [], [0]), arena.Snapshot().Heads);
        arena.CheckInvariants();
    }

    [Fact]
    public void AnOrderAboveMaxOrderOrBelowZeroFailsAndChangesNothing()
    {
        using PageArena arena = TestArenas.Create(16, 2);
        FreeListSnapshot before = arena.Snapshot();

        Assert.False(arena.TryAllocPages(3, out int a));
        Assert.False(arena.TryAllocPages(-1, out int b));

        Assert.Equal(-1, a);
        Assert.Equal(-1, b);
        Assert.Equal(before, arena.Snapshot());
        Assert.Equal(16, arena.FreePageCount);
    }

    [Fact]
    public void AFullArenaFailsEveryOrderAndReportsNoLargestOrder()
    {
        using PageArena arena = TestArenas.Create(4, 2);
        Assert.True(arena.TryAllocPages(2, out int block));

        Assert.Equal(-1, arena.LargestFreeOrder);
        Assert.Equal(0, arena.FreePageCount);
        Assert.False(arena.TryAllocPages(0, out _));

        arena.FreePages(block, 2);
        Assert.Equal(2, arena.LargestFreeOrder);
    }

    [Fact]
    public void ABlockSmallerThanAskedIsNotHandedOut()
    {
        // Two free singles are not an order-1 block unless they are buddies.
        using PageArena arena = TestArenas.Create(4, 2);
        var pages = new int[4];
        for (int i = 0; i < 4; i++)
        {
            Assert.True(arena.TryAllocPages(0, out pages[i]));
        }

        arena.FreePage(pages[1]);
        arena.FreePage(pages[2]);

        Assert.Equal(2, arena.FreePageCount);
        Assert.False(arena.TryAllocPages(1, out _));
        Assert.True(arena.TryAllocPages(0, out _));
    }

    [Fact]
    public void DoubleFreeAndWrongOrderThrowAndChangeNothing()
    {
        using PageArena arena = TestArenas.Create(16, 3);
        Assert.True(arena.TryAllocPages(2, out int block));
        Assert.True(arena.TryAllocPages(0, out int single));
        arena.FreePage(single);
        FreeListSnapshot before = arena.Snapshot();
        long free = arena.FreePageCount;

        Assert.Throws<InvalidOperationException>(() => arena.FreePage(single));        // double free
        Assert.Throws<InvalidOperationException>(() => arena.FreePages(block, 1));     // wrong order
        Assert.Throws<InvalidOperationException>(() => arena.FreePage(block + 1));     // a tail page of an unsplit block
        Assert.Throws<InvalidOperationException>(() => arena.SplitPage(block, 3));     // split at the wrong order
        Assert.Throws<ArgumentOutOfRangeException>(() => arena.FreePage(16));
        Assert.Throws<ArgumentOutOfRangeException>(() => arena.FreePage(-1));

        Assert.Equal(before, arena.Snapshot());
        Assert.Equal(free, arena.FreePageCount);
        Assert.True(arena.IsAllocated(block + 3));
        arena.CheckInvariants();
    }

    [Theory]
    [InlineData(-1)] // the "not allocated" marker: matched a free page and corrupted the free count
    [InlineData(-2)] // the "compound tail" marker: matched a tail page and 1 << -2 marked 2^30 pages
    [InlineData(4)]
    [InlineData(31)]
    public void AnOrderOutsideTheArenaIsRejectedBeforeItTouchesAnything(int order)
    {
        using PageArena arena = TestArenas.Create(16, 3);
        Assert.True(arena.TryAllocPages(2, out int block));
        FreeListSnapshot before = arena.Snapshot();

        Assert.Throws<ArgumentOutOfRangeException>(() => arena.FreePages(12, order));        // a free page
        Assert.Throws<ArgumentOutOfRangeException>(() => arena.FreePages(block + 1, order)); // a tail page
        Assert.Throws<ArgumentOutOfRangeException>(() => arena.SplitPage(block + 1, order));
        Assert.Throws<ArgumentOutOfRangeException>(() => arena.SplitPage(block, order));

        Assert.Equal(before, arena.Snapshot());
        Assert.Equal(12, arena.FreePageCount);
        arena.CheckInvariants();
        arena.FreePages(block, 2);
        Assert.Equal(16, arena.FreePageCount);
    }

    [Fact]
    public void SplitPagesAreFreedOneByOneAndMergeBack()
    {
        using PageArena arena = TestArenas.Create(16, 4);
        FreeListSnapshot initial = arena.Snapshot();
        Assert.True(arena.TryAllocPages(3, out int block));

        arena.SplitPage(block, 3);
        Assert.Throws<InvalidOperationException>(() => arena.FreePages(block, 3)); // now 8 order-0 pages

        foreach (int p in new[] { 5, 0, 7, 2, 1, 6, 3, 4 })
        {
            arena.FreePage(block + p);
            arena.CheckInvariants();
        }

        Assert.Equal(initial, arena.Snapshot());
    }

    [Fact]
    public void PagesAreAddressedByIndexInTheMemfd()
    {
        using PageArena arena = TestArenas.Create(8, 3);

        Assert.Equal(3L * PageSize, arena.OffsetOf(3));
        Assert.Equal(arena.BaseAddress + (3 * PageSize), arena.AddressOf(3));
        Assert.Equal(2 * PageSize, arena.PageSpan(6, 2).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => arena.AddressOf(8));
        Assert.Throws<ArgumentOutOfRangeException>(() => arena.PageSpan(7, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => arena.PageSpan(0, -1));
    }

    [Fact]
    public void APageSpanPast2GiBThrowsInsteadOfWrapping()
    {
        // 2^20 pages of 4 KiB are 4 GiB: count << PageShift wraps to 0 in 32 bits. The arena is sparse,
        // so asking for the span touches nothing.
        int pages = (int)((4L << 30) / PageSize);
        using PageArena arena = TestArenas.Create(pages, 10);

        Assert.Throws<ArgumentOutOfRangeException>(() => arena.PageSpan(0, pages));
        Assert.Throws<ArgumentOutOfRangeException>(() => arena.PageSpan(0, (int)((2L << 30) / PageSize)));
        Assert.Equal(int.MaxValue - (PageSize - 1), arena.PageSpan(0, (int)(int.MaxValue / PageSize)).Length);
    }

    [Fact]
    public void HandedOutPagesAreZeroEvenAfterReuse()
    {
        using PageArena arena = TestArenas.Create(64, 4);
        Assert.True(arena.TryAllocPages(4, out int block));
        Assert.Equal(0, arena.PagesZeroed); // fresh memfd pages are zero already: no memset
        for (int p = block; p < block + 16; p++)
        {
            Assert.True(TestArenas.IsZero(arena, p));
            TestArenas.Scribble(arena, p, 1);
        }

        arena.FreePages(block, 4);
        Assert.True(arena.TryAllocPages(4, out int again));

        Assert.Equal(block, again); // the same pages come back: the freed block is the list's head
        for (int p = again; p < again + 16; p++)
        {
            Assert.True(TestArenas.IsZero(arena, p), $"page {p} kept garbage across free and alloc");
        }

        Assert.Equal(16, arena.PagesZeroed);
    }

    [Fact]
    public void OnlyReusedPagesOfABlockAreCleared()
    {
        using PageArena arena = TestArenas.Create(8, 3);
        Assert.True(arena.TryAllocPages(0, out int used));
        TestArenas.Scribble(arena, used, 2);
        arena.FreePage(used);

        Assert.True(arena.TryAllocPages(3, out int block));

        Assert.Equal(1, arena.PagesZeroed);
        for (int p = block; p < block + 8; p++)
        {
            Assert.True(TestArenas.IsZero(arena, p));
        }
    }

    [Fact]
    public void PunchHoleZeroesOnFreeWithoutMemset()
    {
        using PageArena arena = TestArenas.Create(16, 2, ZeroStrategy.PunchHole);
        Assert.Equal(ZeroStrategy.PunchHole, arena.Zero);
        Assert.True(arena.TryAllocPages(2, out int block));
        for (int p = block; p < block + 4; p++)
        {
            TestArenas.Scribble(arena, p, 3);
        }

        arena.FreePages(block, 2);
        Assert.True(arena.TryAllocPages(2, out int again));

        Assert.Equal(block, again);
        Assert.Equal(0, arena.PagesZeroed);
        for (int p = again; p < again + 4; p++)
        {
            Assert.True(TestArenas.IsZero(arena, p));
        }
    }

    [Fact]
    public void SnapshotsCompareByContent()
    {
        using PageArena a = TestArenas.Create(12, 2);
        using PageArena b = TestArenas.Create(12, 2);
        using PageArena c = TestArenas.Create(12, 3);

        Assert.Equal(a.Snapshot(), b.Snapshot());
        Assert.Equal(a.Snapshot().GetHashCode(), b.Snapshot().GetHashCode());
        Assert.NotEqual(a.Snapshot(), c.Snapshot());
        Assert.True(a.TryAllocPages(0, out _));
        Assert.NotEqual(a.Snapshot(), b.Snapshot());
        Assert.Equal("o0:1 o1:1 o2:2", a.Snapshot().ToString());
    }
}
