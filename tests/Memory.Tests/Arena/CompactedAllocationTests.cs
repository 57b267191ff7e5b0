using System.Numerics;
using DmaSg.Memory.Arena;

namespace DmaSg.Memory.Tests.Arena;

public sealed class CompactedAllocationTests
{
    private static int PageSize => TestArenas.PageSize;

    [Fact]
    public void A1080pNv12FrameTakesOneBlockPerSetBitAndIsOneRun()
    {
        const long frame = 1920 * 1080 * 3 / 2; // 3,110,400 bytes: Y plane plus interleaved UV at half resolution
        using PageArena arena = TestArenas.Create(4096, 10);
        var recorder = new RecordingInjector(arena);
        arena.FaultInjector = recorder;

        int[] pages = CompactedAllocation.AllocateBytes(arena, frame);

        int expected = (int)((frame + PageSize - 1) / PageSize); // 760 pages of 4 KiB
        Assert.Equal(expected, pages.Length);
        Assert.Equal(4096 - expected, arena.FreePageCount);
        Assert.Equal(BitOperations.PopCount((uint)expected), recorder.Calls.Count); // 512+128+64+32+16+8 for 4 KiB pages
        Assert.All(recorder.Calls, c => Assert.True(c.Succeeded));
        Assert.Equal(Enumerable.Range(pages[0], expected), pages); // a fresh arena hands out one consecutive run
        arena.CheckInvariants();
    }

    [Fact]
    public void BlocksAreTakenLargestFirstAndSplitIntoPages()
    {
        using PageArena arena = TestArenas.Create(64, 4);
        var recorder = new RecordingInjector(arena);
        arena.FaultInjector = recorder;

        int[] pages = CompactedAllocation.Allocate(arena, 27); // 16 + 8 + 2 + 1

        Assert.Equal([4, 3, 1, 0], recorder.Calls.Select(c => c.Order));
        Assert.Equal(27, pages.Length);
        arena.FaultInjector = null;
        foreach (int p in pages)
        {
            arena.FreePage(p); // split_page made each of them an order-0 page
        }

        Assert.Equal(64, arena.FreePageCount);
        arena.CheckInvariants();
    }

    [Fact]
    public void MaxOrderCapsTheBlockSize()
    {
        using PageArena arena = TestArenas.Create(64, 2);
        var recorder = new RecordingInjector(arena);
        arena.FaultInjector = recorder;

        int[] pages = CompactedAllocation.Allocate(arena, 11);

        Assert.Equal([2, 2, 1, 0], recorder.Calls.Select(c => c.Order));
        Assert.Equal(11, pages.Length);
    }

    [Fact]
    public void OnAFragmentedArenaItFallsBackOneOrderAtATime()
    {
        using PageArena arena = TestArenas.Create(16, 4);
        var all = new int[16];
        for (int i = 0; i < 16; i++)
        {
            Assert.True(arena.TryAllocPages(0, out all[i]));
        }

        foreach (int p in all.Where(p => p % 2 == 0))
        {
            arena.FreePage(p); // eight free singles, no two of them buddies
        }

        var recorder = new RecordingInjector(arena);
        arena.FaultInjector = recorder;
        int[] pages = CompactedAllocation.Allocate(arena, 5);

        // 5 left: orders 2 and 1 find no block, 0 does; 4 left: the same; 3 and 2 left: 1 fails, 0; 1 left: 0.
        Assert.Equal([2, 1, 0, 2, 1, 0, 1, 0, 1, 0, 0], recorder.Calls.Select(c => c.Order));
        Assert.Equal(5, pages.Length);
        Assert.All(pages, p => Assert.Equal(0, p % 2));
        Assert.Equal(3, arena.FreePageCount);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void ZeroOrNegativePageCountsAreInvalidArgument(int pageCount)
    {
        using PageArena arena = TestArenas.Create(8, 3);
        FreeListSnapshot before = arena.Snapshot();

        var ex = Assert.Throws<DmaSgException>(() => CompactedAllocation.Allocate(arena, pageCount));

        Assert.Equal(DmaSgError.InvalidArgument, ex.Error);
        Assert.Equal(before, arena.Snapshot());
    }

    [Fact]
    public void MorePagesThanFreeIsOutOfMemoryAndChangesNothing()
    {
        using PageArena arena = TestArenas.Create(32, 3);
        Assert.True(arena.TryAllocPages(2, out _));
        FreeListSnapshot before = arena.Snapshot();

        var ex = Assert.Throws<DmaSgException>(() => CompactedAllocation.Allocate(arena, 29));

        Assert.Equal(DmaSgError.OutOfMemory, ex.Error);
        Assert.Equal(before, arena.Snapshot());
        Assert.Equal(28, arena.FreePageCount);
    }

    [Fact]
    public void FailingEveryOrderFromZeroIsOutOfMemoryWithNothingTaken()
    {
        using PageArena arena = TestArenas.Create(32, 3);
        FreeListSnapshot before = arena.Snapshot();
        arena.FaultInjector = new AllocFaultInjector { FailOrderAtLeast = 0 };

        var ex = Assert.Throws<DmaSgException>(() => CompactedAllocation.Allocate(arena, 3));

        Assert.Equal(DmaSgError.OutOfMemory, ex.Error);
        Assert.Equal(before, arena.Snapshot());
        Assert.Equal(32, arena.FreePageCount);
    }

    [Fact]
    public void FailingEveryOrderFromOneStillSucceedsWithSinglePages()
    {
        using PageArena arena = TestArenas.Create(32, 3);
        var injector = new AllocFaultInjector { FailOrderAtLeast = 1 };
        arena.FaultInjector = injector;

        int[] pages = CompactedAllocation.Allocate(arena, 3);

        Assert.Equal(3, pages.Length);
        Assert.Equal(29, arena.FreePageCount);
        Assert.Equal(5, injector.Count); // 3 left: 1 fails, 0; 2 left: 1 fails, 0; 1 left: 0
    }

    [Fact]
    public void AFailedOrderZeroAfterSomeBlocksGivesThemAllBack()
    {
        using PageArena arena = TestArenas.Create(64, 4);
        FreeListSnapshot before = arena.Snapshot();
        // 23 = 16 + 4 + 2 + 1: calls are orders 4, 2, 1, 0; the 4th is the last order-0 page.
        arena.FaultInjector = new AllocFaultInjector { FailNth = 4 };

        var ex = Assert.Throws<DmaSgException>(() => CompactedAllocation.Allocate(arena, 23));

        Assert.Equal(DmaSgError.OutOfMemory, ex.Error);
        Assert.Equal(before, arena.Snapshot());
        Assert.Equal(64, arena.FreePageCount);
        Assert.Equal(0, arena.AllocatedPageCount);
        arena.CheckInvariants();
    }

    [Fact]
    public void AFailedLargeBlockFallsBackToSmallerOnes()
    {
        using PageArena arena = TestArenas.Create(64, 4);
        var injector = new AllocFaultInjector { FailNth = 1 };
        var recorder = new RecordingInjector(arena, injector);
        arena.FaultInjector = recorder;

        int[] pages = CompactedAllocation.Allocate(arena, 16);

        Assert.Equal([4, 3, 3], recorder.Calls.Select(c => c.Order));
        Assert.Equal(16, pages.Length);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MaxValue - 1)]
    public void BadByteSizesAreInvalidArgumentAndChangeNothing(long size)
    {
        using PageArena arena = TestArenas.Create(8, 3);
        FreeListSnapshot before = arena.Snapshot();

        var ex = Assert.Throws<DmaSgException>(() => CompactedAllocation.AllocateBytes(arena, size));

        Assert.Equal(DmaSgError.InvalidArgument, ex.Error);
        Assert.Equal(before, arena.Snapshot());
    }

    [Fact]
    public void AByteSizeIsRoundedUpToWholePages()
    {
        using PageArena arena = TestArenas.Create(8, 3);

        Assert.Single(CompactedAllocation.AllocateBytes(arena, 1));
        Assert.Single(CompactedAllocation.AllocateBytes(arena, PageSize));
        Assert.Equal(2, CompactedAllocation.AllocateBytes(arena, PageSize + 1).Length);
        Assert.Equal(4, arena.FreePageCount);
    }

    [Fact]
    public void AValidSizeBeyondTheArenaIsOutOfMemory()
    {
        using PageArena arena = TestArenas.Create(8, 3);

        var ex = Assert.Throws<DmaSgException>(() => CompactedAllocation.AllocateBytes(arena, 1L << 40));

        Assert.Equal(DmaSgError.OutOfMemory, ex.Error);
        Assert.Equal(8, arena.FreePageCount);
    }
}
