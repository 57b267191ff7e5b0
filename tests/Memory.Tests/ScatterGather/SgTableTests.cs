using DmaSg.Memory.Arena;
using DmaSg.Memory.ScatterGather;
using DmaSg.Memory.Tests.Arena;

namespace DmaSg.Memory.Tests.ScatterGather;

public sealed class SgTableTests
{
    private static int PageSize => TestArenas.PageSize;

    private static long DefaultMax => SgTable.DefaultMaxSegment(PageSize);

    private static nint Cpu(long phys) => (nint)(0x7000_0000_0000L + phys);

    private static long[] Phys(params int[] pages) => pages.Select(p => (long)p * PageSize).ToArray();

    [Fact]
    public void TheDefaultMaxSegmentIsTheLargestPageMultipleIn32Bits()
    {
        Assert.Equal(0xFFFF_F000L, SgTable.DefaultMaxSegment(4096));
        Assert.Equal(0xFFFF_0000L, SgTable.DefaultMaxSegment(65536));
    }

    [Fact]
    public void ConsecutivePagesMergeIntoOneEntryPerRun()
    {
        SgTable sgt = SgTable.Build(Phys(3, 4, 5, 9, 10, 2, 7), Cpu, PageSize, 0, 7L * PageSize, DefaultMax, "buf#1");

        Assert.Equal(4, sgt.OrigNents);
        Assert.Equal(
            [
                new SgEntry(3L * PageSize, Cpu(3L * PageSize), 3L * PageSize),
                new SgEntry(9L * PageSize, Cpu(9L * PageSize), 2L * PageSize),
                new SgEntry(2L * PageSize, Cpu(2L * PageSize), PageSize),
                new SgEntry(7L * PageSize, Cpu(7L * PageSize), PageSize),
            ],
            sgt.Entries.ToArray());
        Assert.Equal(0, sgt.Nents);
        Assert.False(sgt.IsMapped);
        Assert.Equal("buf#1", sgt.Owner);
    }

    [Fact]
    public void ADescendingOrRepeatedPageIsNotConsecutive()
    {
        Assert.Equal(3, SgTable.Build(Phys(5, 4, 3), Cpu, PageSize, 0, 3L * PageSize, DefaultMax).OrigNents);
        Assert.Equal(2, SgTable.Build(Phys(5, 5), Cpu, PageSize, 0, 2L * PageSize, DefaultMax).OrigNents);
    }

    [Fact]
    public void TheMaxSegmentSplitsARun()
    {
        SgTable sgt = SgTable.Build(Phys(0, 1, 2, 3, 4, 5, 6), Cpu, PageSize, 0, 7L * PageSize, 3L * PageSize);

        Assert.Equal([3L * PageSize, 3L * PageSize, PageSize], sgt.Entries.ToArray().Select(e => e.Length));
        Assert.Equal([0L, 3L * PageSize, 6L * PageSize], sgt.Entries.ToArray().Select(e => e.Phys));
    }

    [Fact]
    public void AMaxSegmentThatIsNotAPageMultipleIsRoundedDown()
    {
        SgTable sgt = SgTable.Build(Phys(0, 1, 2, 3), Cpu, PageSize, 0, 4L * PageSize, (2L * PageSize) + 100);

        Assert.Equal(2, sgt.OrigNents);
    }

    [Fact]
    public void ARunOver4GiBIsSplitAtTheDefaultMaxSegment()
    {
        // 4 GiB + 3 pages of consecutive "physical" pages; only addresses, nothing is allocated.
        int pages = (int)((4L << 30) / PageSize) + 3;
        var phys = new long[pages];
        for (int i = 0; i < pages; i++)
        {
            phys[i] = (long)i * PageSize;
        }

        SgTable sgt = SgTable.Build(phys, Cpu, PageSize, 0, (long)pages * PageSize, DefaultMax);

        Assert.Equal([DefaultMax, 4L * PageSize], sgt.Entries.ToArray().Select(e => e.Length));
        Assert.Equal((long)pages * PageSize, sgt.Length);
    }

    [Fact]
    public void AFirstPageOffsetAndATotalLengthTrimBothEnds()
    {
        // USERPTR: 100 bytes into the first page, 2 pages + 50 bytes long, over pages 7 8 | 20.
        long size = (2L * PageSize) + 50;
        SgTable sgt = SgTable.Build(Phys(7, 8, 20), Cpu, PageSize, 100, size, DefaultMax, "userptr");

        Assert.Equal(100, sgt.FirstOffset);
        Assert.Equal(size, sgt.Length);
        Assert.Equal(
            [
                new SgEntry((7L * PageSize) + 100, Cpu((7L * PageSize) + 100), (2L * PageSize) - 100),
                new SgEntry(20L * PageSize, Cpu(20L * PageSize), 150),
            ],
            sgt.Entries.ToArray());
    }

    [Fact]
    public void TrailingPagesTheLengthDoesNotReachGetNoEntry()
    {
        SgTable sgt = SgTable.Build(Phys(1, 5, 9), Cpu, PageSize, 0, PageSize, DefaultMax);

        Assert.Equal(1, sgt.OrigNents);
        Assert.Equal(PageSize, sgt.Entries[0].Length);
    }

    /// <summary>Offsets and lengths that two pages cannot hold; the last two wrap if offset + size is computed.</summary>
    public static TheoryData<int, long, string> BadRanges() => new()
    {
        { -1, 1L, "offset" },
        { PageSize, 1L, "offset" },
        { 0, 0L, "bytes" },
        { 0, -1L, "bytes" },
        { 1, 2L * PageSize, "bytes" },
        { 0, (2L * PageSize) + 1, "bytes" },
        { 1, long.MaxValue, "bytes" },
        { PageSize - 1, long.MaxValue - (PageSize / 2), "bytes" },
    };

    [Theory]
    [MemberData(nameof(BadRanges))]
    public void BadOffsetsAndLengthsAreInvalidArgument(int offset, long size, string what)
    {
        var ex = Assert.Throws<DmaSgException>(() => SgTable.Build(Phys(0, 1), Cpu, PageSize, offset, size, DefaultMax));

        Assert.Equal(DmaSgError.InvalidArgument, ex.Error);
        Assert.Contains(what, ex.Detail);
    }

    [Fact]
    public void NoPagesOrAMaxSegmentBelowAPageIsInvalidArgument()
    {
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => SgTable.Build([], Cpu, PageSize, 0, 1, DefaultMax)).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => SgTable.Build(Phys(0), Cpu, PageSize, 0, 1, PageSize - 1)).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => SgTable.Build(Phys(0), Cpu, PageSize, 0, 1, 0)).Error);
    }

    [Fact]
    public void CloneCopiesTheEntriesButNotTheMapping()
    {
        SgTable sgt = SgTable.Build(Phys(0, 1, 4), Cpu, PageSize, 10, (3L * PageSize) - 20, DefaultMax, "buf#2");
        sgt.SetDmaMapping([new DmaSegment(0x1000, 100), new DmaSegment(0x9000, 200)]);

        SgTable copy = sgt.Clone("attachment#1 of dmabuf#1");

        Assert.Equal(sgt.Entries.ToArray(), copy.Entries.ToArray());
        Assert.Equal(sgt.OrigNents, copy.OrigNents);
        Assert.Equal(sgt.FirstOffset, copy.FirstOffset);
        Assert.Equal(sgt.Length, copy.Length);
        Assert.Equal("attachment#1 of dmabuf#1", copy.Owner);
        Assert.False(copy.IsMapped);
        Assert.Equal(0, copy.Nents);
        Assert.Equal("buf#2", sgt.Clone().Owner);

        // Mapping and unmapping one leaves the other alone.
        copy.SetDmaMapping([new DmaSegment(0x40000, copy.Length)]);
        Assert.Equal(2, sgt.Nents);
        Assert.Equal(1, copy.Nents);
        sgt.ClearDmaMapping();
        Assert.True(copy.IsMapped);
        Assert.Equal(0x40000, copy.Dma[0].Address);
        copy.Owner = "renamed";
        Assert.Equal("buf#2", sgt.Owner);
    }

    [Fact]
    public void ADmaMappingHasOneToOrigNentsSegments()
    {
        SgTable sgt = SgTable.Build(Phys(0, 2), Cpu, PageSize, 0, 2L * PageSize, DefaultMax);

        Assert.Throws<ArgumentException>(() => sgt.SetDmaMapping([]));
        Assert.Throws<ArgumentException>(() => sgt.SetDmaMapping([new(0, 1), new(2, 1), new(4, 1)]));
        Assert.False(sgt.IsMapped);
        sgt.SetDmaMapping([new DmaSegment(0x1000, 2L * PageSize)]);
        Assert.Equal(1, sgt.Nents);
        Assert.Equal(0x1000 + (2L * PageSize), sgt.Dma[0].End);
    }

    [Fact]
    public void ArenaPagesGiveMemfdOffsetsAndArenaAddresses()
    {
        using PageArena arena = TestArenas.Create(32, 4);
        int[] pages = CompactedAllocation.Allocate(arena, 5);

        SgTable sgt = SgTable.FromArenaPages(arena, pages, 0, 5L * PageSize, DefaultMax, "buf#3");

        Assert.Equal(1, sgt.OrigNents); // a fresh arena hands out one run
        Assert.Equal(arena.OffsetOf(pages[0]), sgt.Entries[0].Phys);
        Assert.Equal(arena.AddressOf(pages[0]), sgt.Entries[0].Cpu);
        Assert.Equal(sgt.Entries[0].Phys + sgt.Entries[0].Length, sgt.Entries[0].PhysEnd);
    }

    [Fact]
    public void ATableOverAFreeOrForeignPageIsInvalidArgument()
    {
        using PageArena arena = TestArenas.Create(32, 4);
        int[] pages = CompactedAllocation.Allocate(arena, 3);
        arena.FreePage(pages[2]);

        foreach (int[] bad in new[] { pages, [pages[0], 32], [-1], [pages[0], pages[1], pages[0] + 3] })
        {
            var ex = Assert.Throws<DmaSgException>(() => SgTable.FromArenaPages(arena, bad, 0, (long)bad.Length * PageSize, DefaultMax));
            Assert.Equal(DmaSgError.InvalidArgument, ex.Error);
        }

        Assert.Equal(2, SgTable.FromArenaPages(arena, pages.AsSpan(0, 2), 0, 2L * PageSize, PageSize).OrigNents);
    }

    [Fact]
    public void UserPagesUseTheirVirtualAddresses()
    {
        nint start = unchecked((nint)0x7f00_0000_0000L);
        SgTable sgt = SgTable.FromUserPages(start, 3, PageSize, 12, (3L * PageSize) - 12, DefaultMax, "userptr#1");

        SgEntry e = Assert.Single(sgt.Entries.ToArray());
        Assert.Equal(start + 12, e.Phys);
        Assert.Equal(start + 12, e.Cpu);
        Assert.Equal((3L * PageSize) - 12, e.Length);
    }
}
