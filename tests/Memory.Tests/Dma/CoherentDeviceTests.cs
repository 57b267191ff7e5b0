using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Tests.Dma;

public sealed class CoherentDeviceTests : IDisposable
{
    private readonly DmaTestArena _t = new();

    public void Dispose() => _t.Dispose();

    [Fact]
    public void MapGivesEachEntryItsArenaOffset()
    {
        _t.Fragment();
        SgTable sgt = _t.Table(4, out int[] pages, "buf#1");
        using var dev = new CoherentDevice("cam0");

        int nents = dev.MapSg(sgt, DmaDirection.FromDevice);

        Assert.Equal(4, sgt.OrigNents);
        Assert.Equal(4, nents);
        Assert.Equal(4, sgt.Nents);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(_t.Arena.OffsetOf(pages[i]), sgt.Dma[i].Address);
            Assert.Equal(_t.PageSize, sgt.Dma[i].Length);
        }

        Assert.Equal(1, dev.LiveMappings);
    }

    [Fact]
    public void DeviceWriteLandsInTheArenaPages()
    {
        _t.Fragment();
        SgTable sgt = _t.Table(3, out int[] pages, "buf#1");
        using var dev = new CoherentDevice("cam0");
        dev.MapSg(sgt, DmaDirection.FromDevice);

        byte[] frame = DmaTestArena.Pattern(sgt.Length, 3);
        DmaTestArena.DeviceWrite(dev, sgt, frame);

        for (int i = 0; i < 3; i++)
        {
            Assert.True(_t.Arena.PageSpan(pages[i]).SequenceEqual(frame.AsSpan(i * _t.PageSize, _t.PageSize)));
        }
    }

    [Fact]
    public void DeviceReadSeesCpuWrites()
    {
        SgTable sgt = _t.Table(2, out int[] pages, "buf#1");
        using var dev = new CoherentDevice("enc0");
        dev.MapSg(sgt, DmaDirection.ToDevice);

        byte[] data = DmaTestArena.Pattern(2 * _t.PageSize, 9);
        data.AsSpan(0, _t.PageSize).CopyTo(_t.Arena.PageSpan(pages[0]));
        data.AsSpan(_t.PageSize).CopyTo(_t.Arena.PageSpan(pages[1]));

        Assert.Equal(data, DmaTestArena.DeviceRead(dev, sgt));
    }

    [Fact]
    public void AccessMaySpanEntriesOnlyWhenTheyAreDmaContiguous()
    {
        // Contiguous pages split into one-page entries by a small max segment: DMA-contiguous.
        SgTable split = _t.Table(2, out int[] pages, "split", maxSegment: _t.PageSize);
        Assert.Equal(2, split.OrigNents);
        using var dev = new CoherentDevice("dev");
        dev.MapSg(split, DmaDirection.Bidirectional);
        byte[] data = DmaTestArena.Pattern(200, 1);
        dev.Write(split.Dma[0].End - 100, data);
        Assert.True(_t.Arena.PageSpan(pages[0], 2).Slice(_t.PageSize - 100, 200).SequenceEqual(data));

        // Scattered pages: a range running off the end of one entry faults.
        _t.Fragment();
        SgTable scattered = _t.Table(2, "scattered");
        dev.MapSg(scattered, DmaDirection.Bidirectional);
        Assert.NotEqual(scattered.Dma[0].End, scattered.Dma[1].Address);
        var ex = Assert.Throws<DmaSgException>(() => dev.Write(scattered.Dma[0].End - 100, data));
        Assert.Equal(DmaSgError.Fault, ex.Error);
    }

    [Fact]
    public void AccessOutsideEveryMappingFaults()
    {
        SgTable sgt = _t.Table(1, "buf#1");
        using var dev = new CoherentDevice("dev");
        dev.MapSg(sgt, DmaDirection.Bidirectional);
        long address = sgt.Dma[0].Address;
        dev.UnmapSg(sgt, sgt.OrigNents, DmaDirection.Bidirectional);

        Assert.False(sgt.IsMapped);
        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => dev.Write(address, new byte[8])).Error);
        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => dev.Read(address, new byte[8])).Error);
    }

    [Fact]
    public void AddressBeyondTheLimitFailsWithIoAndMapsNothing()
    {
        // Skip the first 8 pages so the buffer lies above a limit of 4 pages.
        _ = _t.Table(8, "low");
        SgTable sgt = _t.Table(2, "high");
        using var dev = new CoherentDevice("dma32", addressLimit: 4L * _t.PageSize);

        var ex = Assert.Throws<DmaSgException>(() => dev.MapSg(sgt, DmaDirection.ToDevice));

        Assert.Equal(DmaSgError.Io, ex.Error);
        Assert.Contains("dma32", ex.Message);
        Assert.False(sgt.IsMapped);
        Assert.Equal(0, dev.LiveMappings);
    }

    [Fact]
    public void EntryLongerThanMaxSegmentFailsWithInvalidArgument()
    {
        SgTable sgt = _t.Table(4, "big");
        Assert.Equal(1, sgt.OrigNents);
        using var dev = new CoherentDevice("tiny-seg", maxSegmentSize: 2L * _t.PageSize);

        var ex = Assert.Throws<DmaSgException>(() => dev.MapSg(sgt, DmaDirection.ToDevice));

        Assert.Equal(DmaSgError.InvalidArgument, ex.Error);
        Assert.Contains("tiny-seg", ex.Message);
        Assert.Contains((2L * _t.PageSize).ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message);
        Assert.False(sgt.IsMapped);
        Assert.Equal(0, dev.LiveMappings);
    }

    [Theory]
    [InlineData(DmaDirection.None)]
    [InlineData((DmaDirection)7)]
    [InlineData((DmaDirection)(-1))]
    public void InvalidDirectionIsInvalidArgument(DmaDirection dir)
    {
        SgTable sgt = _t.Table(1, "buf");
        using var dev = new CoherentDevice("dev");

        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => dev.MapSg(sgt, dir)).Error);

        dev.MapSg(sgt, DmaDirection.ToDevice);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => dev.SyncSgForCpu(sgt, 1, dir)).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => dev.UnmapSg(sgt, 1, dir)).Error);
        Assert.True(sgt.IsMapped);
    }

    [Fact]
    public void DoubleMapAndUnmapOfUnmappedAreInvalidArgument()
    {
        SgTable sgt = _t.Table(1, "buf");
        using var dev = new CoherentDevice("dev");

        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => dev.UnmapSg(sgt, 1, DmaDirection.ToDevice)).Error);
        dev.MapSg(sgt, DmaDirection.ToDevice);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => dev.MapSg(sgt, DmaDirection.ToDevice)).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => dev.UnmapSg(sgt, 2, DmaDirection.ToDevice)).Error);
        dev.UnmapSg(sgt, 1, DmaDirection.ToDevice);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => dev.UnmapSg(sgt, 1, DmaDirection.ToDevice)).Error);
        Assert.Equal(0, dev.LiveMappings);
    }

    [Fact]
    public void ACloneMapsOnItsOwn()
    {
        SgTable sgt = _t.Table(2, "buf");
        SgTable copy = sgt.Clone("attachment#1");
        using var dev = new CoherentDevice("dev");

        dev.MapSg(sgt, DmaDirection.ToDevice);
        dev.MapSg(copy, DmaDirection.ToDevice);

        Assert.Equal(2, dev.LiveMappings);
        Assert.Equal(new[] { "buf", "attachment#1" }.Order(), dev.MappingOwners().Order());
        dev.UnmapSg(copy, copy.OrigNents, DmaDirection.ToDevice);
        Assert.True(sgt.IsMapped);
        Assert.Equal(1, dev.LiveMappings);
    }
}
