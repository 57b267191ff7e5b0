using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Tests.Dma;

public sealed class IommuDeviceTests : IDisposable
{
    private readonly DmaTestArena _t = new();

    public void Dispose() => _t.Dispose();

    [Fact]
    public void ScatteredEntriesMergeIntoOneIovaSegment()
    {
        _t.Fragment();
        SgTable sgt = _t.Table(5, "buf#1");
        using var dev = new IommuDevice("gpu0");

        int nents = dev.MapSg(sgt, DmaDirection.Bidirectional);

        Assert.Equal(5, sgt.OrigNents);
        Assert.Equal(1, nents);
        Assert.Equal(1, sgt.Nents);
        Assert.True(sgt.Nents < sgt.OrigNents);
        Assert.Equal(IommuDevice.DefaultIovaBase, sgt.Dma[0].Address);
        Assert.Equal(sgt.Length, sgt.Dma[0].Length);
        Assert.Equal(5L * _t.PageSize, dev.IovaBytesInUse);
    }

    [Fact]
    public void DeviceWriteAcrossEntriesLandsInTheRightPages()
    {
        _t.Fragment();
        SgTable sgt = _t.Table(4, out int[] pages, "buf#1");
        using var dev = new IommuDevice("gpu0");
        dev.MapSg(sgt, DmaDirection.FromDevice);

        byte[] frame = DmaTestArena.Pattern(sgt.Length, 5);
        // One write across all four scattered pages, starting mid-page.
        dev.Write(sgt.Dma[0].Address + 10, frame.AsSpan(10));
        dev.Write(sgt.Dma[0].Address, frame.AsSpan(0, 10));

        for (int i = 0; i < pages.Length; i++)
        {
            Assert.True(_t.Arena.PageSpan(pages[i]).SequenceEqual(frame.AsSpan(i * _t.PageSize, _t.PageSize)), $"page {i}");
        }

        var back = new byte[300];
        dev.Read(sgt.Dma[0].Address + _t.PageSize - 150, back);
        Assert.Equal(frame.AsSpan(_t.PageSize - 150, 300).ToArray(), back);
    }

    [Fact]
    public void FirstPageOffsetIsKeptInTheIova()
    {
        _t.Fragment();
        const int offset = 100;
        SgTable sgt = _t.Table(3, out int[] pages, "userptr", offset: offset, size: (3L * _t.PageSize) - offset - 50);
        using var dev = new IommuDevice("gpu0");
        dev.MapSg(sgt, DmaDirection.FromDevice);

        Assert.Equal(1, sgt.Nents);
        Assert.Equal(IommuDevice.DefaultIovaBase + offset, sgt.Dma[0].Address);
        Assert.Equal(sgt.Length, sgt.Dma[0].Length);

        byte[] frame = DmaTestArena.Pattern(sgt.Length, 8);
        dev.Write(sgt.Dma[0].Address, frame);
        Assert.True(_t.Arena.PageSpan(pages[0])[offset..].SequenceEqual(frame.AsSpan(0, _t.PageSize - offset)));
        Assert.True(_t.Arena.PageSpan(pages[1]).SequenceEqual(frame.AsSpan(_t.PageSize - offset, _t.PageSize)));
        Assert.True(_t.Arena.PageSpan(pages[2])[..(_t.PageSize - 50)].SequenceEqual(frame.AsSpan((2 * _t.PageSize) - offset)));
        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => dev.Write(sgt.Dma[0].End - 1, new byte[2])).Error);
    }

    [Fact]
    public void SyncOverOrigNentsPassesTheCheckerAndSyncOverNentsIsFlagged()
    {
        _t.Fragment();
        SgTable sgt = _t.Table(4, "buf#7");
        var checker = new DmaApiChecker(new IommuDevice("gpu0"));
        using var _ = checker;
        checker.MapSg(sgt, DmaDirection.Bidirectional);

        checker.SyncSgForDevice(sgt, sgt.OrigNents, DmaDirection.Bidirectional);
        checker.SyncSgForCpu(sgt, sgt.OrigNents, DmaDirection.Bidirectional);
        Assert.Empty(checker.Violations);

        var ex = Assert.Throws<DmaApiException>(() => checker.SyncSgForCpu(sgt, sgt.Nents, DmaDirection.Bidirectional));
        Assert.Equal(DmaApiViolationKind.SyncNentsMismatch, ex.Kind);
        Assert.Equal("buf#7", ex.Violation.Owner);
        Assert.Contains("orig_nents", ex.Message);
    }

    [Fact]
    public void MaxSegmentSizeBoundsTheMerge()
    {
        _t.Fragment();
        SgTable sgt = _t.Table(4, "buf");
        using var dev = new IommuDevice("gpu0", maxSegmentSize: 2L * _t.PageSize);

        Assert.Equal(2, dev.MapSg(sgt, DmaDirection.ToDevice));
        Assert.Equal(sgt.Dma[0].End, sgt.Dma[1].Address);
        Assert.Equal(2L * _t.PageSize, sgt.Dma[0].Length);
    }

    [Fact]
    public void RunningOutOfIovaSpaceIsOutOfMemoryAndUnmapGivesItBack()
    {
        long space = 4L * _t.PageSize;
        using var dev = new IommuDevice("small-iommu", addressLimit: IommuDevice.DefaultIovaBase + space);
        SgTable a = _t.Table(3, "a");
        SgTable b = _t.Table(2, "b");
        SgTable c = _t.Table(1, "c");

        dev.MapSg(a, DmaDirection.ToDevice);
        var ex = Assert.Throws<DmaSgException>(() => dev.MapSg(b, DmaDirection.ToDevice));
        Assert.Equal(DmaSgError.OutOfMemory, ex.Error);
        Assert.False(b.IsMapped);
        dev.MapSg(c, DmaDirection.ToDevice);
        Assert.Equal(space, dev.IovaBytesInUse);
        Assert.True(c.Dma[0].End <= dev.AddressLimit);

        dev.UnmapSg(a, a.OrigNents, DmaDirection.ToDevice);
        dev.MapSg(b, DmaDirection.ToDevice);
        dev.UnmapSg(b, b.OrigNents, DmaDirection.ToDevice);
        dev.UnmapSg(c, c.OrigNents, DmaDirection.ToDevice);
        Assert.Equal(0, dev.IovaBytesInUse);
        Assert.Equal(0, dev.LiveMappings);

        // Freed ranges coalesced: the whole space fits one mapping again.
        SgTable all = _t.Table(4, "all");
        dev.MapSg(all, DmaDirection.ToDevice);
        Assert.Equal(IommuDevice.DefaultIovaBase, all.Dma[0].Address);
    }

    [Fact]
    public void IovaOfAnUnmappedTableFaults()
    {
        SgTable sgt = _t.Table(2, "buf");
        using var dev = new IommuDevice("gpu0");
        dev.MapSg(sgt, DmaDirection.Bidirectional);
        long iova = sgt.Dma[0].Address;
        dev.UnmapSg(sgt, sgt.OrigNents, DmaDirection.Bidirectional);

        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => dev.Read(iova, new byte[4])).Error);
    }
}
