using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Tests.Dma;

public sealed class BounceDeviceTests : IDisposable
{
    private const long Pool = 4L << 20;
    private readonly DmaTestArena _t = new();

    public void Dispose() => _t.Dispose();

    [Fact]
    public void EachEntryGetsItsOwnBounceRangeInThePool()
    {
        _t.Fragment();
        SgTable sgt = _t.Table(3, "buf#1");
        using var dev = new BounceDevice("dma32", Pool);

        int nents = dev.MapSg(sgt, DmaDirection.Bidirectional);

        Assert.Equal(3, nents);
        Assert.Equal(sgt.OrigNents, sgt.Nents);
        foreach (DmaSegment s in sgt.Dma)
        {
            Assert.InRange(s.Address, dev.PoolDmaBase, dev.PoolDmaBase + Pool - s.Length);
            Assert.Equal(0, (s.Address - dev.PoolDmaBase) % BounceDevice.SlotSize);
            Assert.True(s.End <= dev.AddressLimit);
        }

        Assert.Equal(3L * _t.PageSize, dev.BounceBytesInUse);
        dev.UnmapSg(sgt, sgt.OrigNents, DmaDirection.Bidirectional);
        Assert.Equal(0, dev.BounceBytesInUse);
    }

    [Fact]
    public void CameraWithoutSyncForCpuLeavesStaleBytesAndTheCheckerStaysQuiet()
    {
        _t.Fragment();
        SgTable sgt = _t.Table(3, "capture#0");
        byte[] old = DmaTestArena.Pattern(sgt.Length, 1);
        DmaTestArena.CpuWrite(sgt, old);
        using var checker = new DmaApiChecker(new BounceDevice("cam0", Pool), DmaApiCheckerMode.Record);

        // vb2 maps with SkipCpuSync and relies on prepare()/finish().
        checker.MapSg(sgt, DmaDirection.FromDevice, DmaAttrs.SkipCpuSync);
        checker.SyncSgForDevice(sgt, sgt.OrigNents, DmaDirection.FromDevice);
        byte[] frame = DmaTestArena.Pattern(sgt.Length, 77);
        DmaTestArena.DeviceWrite(checker, sgt, frame);

        // finish() forgotten: the CPU still sees the old bytes, and nothing is a DMA-API violation.
        Assert.Equal(old, DmaTestArena.CpuRead(sgt));
        Assert.Empty(checker.Violations);

        checker.SyncSgForCpu(sgt, sgt.OrigNents, DmaDirection.FromDevice);
        Assert.Equal(frame, DmaTestArena.CpuRead(sgt));

        checker.UnmapSg(sgt, sgt.OrigNents, DmaDirection.FromDevice, DmaAttrs.SkipCpuSync);
        Assert.Empty(checker.Violations);
        Assert.Equal(0, checker.LiveMappings);
    }

    [Fact]
    public void ToDeviceNeedsSyncForDeviceBeforeTheDeviceSeesCpuWrites()
    {
        _t.Fragment();
        SgTable sgt = _t.Table(2, "output#0");
        byte[] old = DmaTestArena.Pattern(sgt.Length, 2);
        DmaTestArena.CpuWrite(sgt, old);
        using var checker = new DmaApiChecker(new BounceDevice("enc0", Pool));
        checker.MapSg(sgt, DmaDirection.ToDevice, DmaAttrs.SkipCpuSync);

        byte[] fresh = DmaTestArena.Pattern(sgt.Length, 50);
        DmaTestArena.CpuWrite(sgt, fresh);
        Assert.Equal(old, DmaTestArena.DeviceRead(checker, sgt));

        checker.SyncSgForDevice(sgt, sgt.OrigNents, DmaDirection.ToDevice);
        Assert.Equal(fresh, DmaTestArena.DeviceRead(checker, sgt));

        // finish() of an output buffer: sync for cpu with its own direction is legal and copies nothing back.
        checker.SyncSgForCpu(sgt, sgt.OrigNents, DmaDirection.ToDevice);
        checker.UnmapSg(sgt, sgt.OrigNents, DmaDirection.ToDevice);
        Assert.Empty(checker.Violations);
    }

    [Theory]
    [InlineData(DmaDirection.FromDevice, DmaAttrs.None, true)]
    [InlineData(DmaDirection.Bidirectional, DmaAttrs.None, true)]
    [InlineData(DmaDirection.FromDevice, DmaAttrs.SkipCpuSync, false)]
    [InlineData(DmaDirection.Bidirectional, DmaAttrs.SkipCpuSync, false)]
    public void UnmapCopiesBackUnlessSkipCpuSync(DmaDirection dir, DmaAttrs attrs, bool copiesBack)
    {
        SgTable sgt = _t.Table(2, "capture#1");
        byte[] old = DmaTestArena.Pattern(sgt.Length, 4);
        DmaTestArena.CpuWrite(sgt, old);
        using var dev = new BounceDevice("cam0", Pool);
        dev.MapSg(sgt, dir);
        byte[] frame = DmaTestArena.Pattern(sgt.Length, 40);
        DmaTestArena.DeviceWrite(dev, sgt, frame);

        dev.UnmapSg(sgt, sgt.OrigNents, dir, attrs);

        Assert.Equal(copiesBack ? frame : old, DmaTestArena.CpuRead(sgt));
        Assert.Equal(0, dev.BounceSlotsInUse);
    }

    [Fact]
    public void UnmapOfToDeviceNeverCopiesBack()
    {
        SgTable sgt = _t.Table(1, "output#1");
        using var dev = new BounceDevice("enc0", Pool);
        dev.MapSg(sgt, DmaDirection.ToDevice);
        dev.Write(sgt.Dma[0].Address, new byte[] { 1, 2, 3 });

        dev.UnmapSg(sgt, 1, DmaDirection.ToDevice);

        Assert.True(DmaTestArena.CpuRead(sgt).AsSpan(0, 3).SequenceEqual(new byte[3]));
    }

    [Theory]
    [InlineData(DmaAttrs.None)]
    [InlineData(DmaAttrs.SkipCpuSync)]
    public void APartialDeviceWriteKeepsTheOriginalBytes(DmaAttrs attrs)
    {
        SgTable sgt = _t.Table(1, "capture#2");
        byte[] old = DmaTestArena.Pattern(sgt.Length, 6);
        DmaTestArena.CpuWrite(sgt, old);
        using var dev = new BounceDevice("cam0", Pool);
        dev.MapSg(sgt, DmaDirection.FromDevice, attrs);

        dev.Write(sgt.Dma[0].Address, new byte[] { 0xEE, 0xEE });
        dev.SyncSgForCpu(sgt, 1, DmaDirection.FromDevice);

        byte[] expected = (byte[])old.Clone();
        expected[0] = expected[1] = 0xEE;
        Assert.Equal(expected, DmaTestArena.CpuRead(sgt));
    }

    [Fact]
    public void BounceSlotsOfAnEarlierMappingDoNotLeakIntoTheNext()
    {
        SgTable first = _t.Table(1, "first");
        SgTable second = _t.Table(1, "second");
        using var dev = new BounceDevice("cam0", BounceDevice.SlotSize * 8L * (_t.PageSize / BounceDevice.SlotSize));
        dev.MapSg(first, DmaDirection.FromDevice);
        long address = first.Dma[0].Address;
        dev.Write(address, DmaTestArena.Pattern(_t.PageSize, 9));
        dev.UnmapSg(first, 1, DmaDirection.FromDevice, DmaAttrs.SkipCpuSync);

        // Fill the pool from the cursor around to the slots the first mapping used.
        SgTable? reused = null;
        var taken = new List<SgTable>();
        for (int i = 0; i < 8 && reused is null; i++)
        {
            SgTable t = i == 0 ? second : _t.Table(1, $"t{i}");
            dev.MapSg(t, DmaDirection.FromDevice, DmaAttrs.SkipCpuSync);
            taken.Add(t);
            if (t.Dma[0].Address == address)
            {
                reused = t;
            }
        }

        Assert.NotNull(reused);
        var seen = new byte[_t.PageSize];
        dev.Read(address, seen);
        Assert.Equal(new byte[_t.PageSize], seen);
    }

    [Fact]
    public void EntryOver256KiBFailsWithBounceBufferFull()
    {
        int pages = (int)(2 * BounceDevice.MaxMappingSize / _t.PageSize);
        SgTable sgt = _t.Table(pages, "huge");
        Assert.True(sgt.Entries[0].Length > BounceDevice.MaxMappingSize);
        using var dev = new BounceDevice("dma32", Pool);

        var ex = Assert.Throws<DmaSgException>(() => dev.MapSg(sgt, DmaDirection.ToDevice));

        Assert.Equal(DmaSgError.OutOfMemory, ex.Error);
        Assert.Contains("bounce buffer full", ex.Message);
        Assert.False(sgt.IsMapped);
        Assert.Equal(0, dev.BounceSlotsInUse);
        Assert.Equal(0, dev.LiveMappings);
    }

    [Fact]
    public void A3MiBBufferBuiltWithTheDeviceMaxSegmentMapsAndWorks()
    {
        const long size = 3L << 20;
        int pages = (int)(size / Environment.SystemPageSize);
        using var big = new DmaTestArena(pages + 64);
        using var dev = new BounceDevice("dma32");
        SgTable sgt = big.Table(pages, "frame#0", maxSegment: dev.MaxSegmentSize);
        Assert.Equal(BounceDevice.MaxMappingSize, dev.MaxSegmentSize);
        Assert.All(sgt.Entries.ToArray(), e => Assert.True(e.Length <= BounceDevice.MaxMappingSize));
        Assert.Equal(size / BounceDevice.MaxMappingSize, sgt.OrigNents);

        using var checker = new DmaApiChecker(dev, leaveInnerOpen: true);
        Assert.Equal(sgt.OrigNents, checker.MapSg(sgt, DmaDirection.FromDevice, DmaAttrs.SkipCpuSync));
        byte[] frame = DmaTestArena.Pattern(size, 12);
        DmaTestArena.DeviceWrite(checker, sgt, frame);
        checker.SyncSgForCpu(sgt, sgt.OrigNents, DmaDirection.FromDevice);
        Assert.Equal(frame, DmaTestArena.CpuRead(sgt));
        Assert.Equal(size, dev.BounceBytesInUse);

        checker.UnmapSg(sgt, sgt.OrigNents, DmaDirection.FromDevice, DmaAttrs.SkipCpuSync);
        Assert.Equal(0, dev.BounceBytesInUse);
        Assert.Empty(checker.Violations);
    }

    [Fact]
    public void AFullPoolIsOutOfMemoryAndAPartialMapGivesItsSlotsBack()
    {
        _t.Fragment();
        long poolSize = 3L * _t.PageSize;
        using var dev = new BounceDevice("tiny-pool", poolSize);
        SgTable two = _t.Table(2, "two");
        SgTable twoMore = _t.Table(2, "two-more");
        dev.MapSg(two, DmaDirection.ToDevice);
        int inUse = dev.BounceSlotsInUse;

        var ex = Assert.Throws<DmaSgException>(() => dev.MapSg(twoMore, DmaDirection.ToDevice));

        Assert.Equal(DmaSgError.OutOfMemory, ex.Error);
        Assert.Contains("bounce buffer full", ex.Message);
        Assert.Equal(inUse, dev.BounceSlotsInUse);
        Assert.False(twoMore.IsMapped);
    }

    [Fact]
    public void ASyncOverTooFewEntriesSyncsOnlyThose()
    {
        _t.Fragment();
        SgTable sgt = _t.Table(3, "capture#3");
        using var dev = new BounceDevice("cam0", Pool);
        dev.MapSg(sgt, DmaDirection.FromDevice);
        byte[] frame = DmaTestArena.Pattern(sgt.Length, 21);
        DmaTestArena.DeviceWrite(dev, sgt, frame);

        dev.SyncSgForCpu(sgt, 1, DmaDirection.FromDevice);

        byte[] cpu = DmaTestArena.CpuRead(sgt);
        Assert.True(cpu.AsSpan(0, _t.PageSize).SequenceEqual(frame.AsSpan(0, _t.PageSize)));
        Assert.True(cpu.AsSpan(_t.PageSize).SequenceEqual(new byte[2 * _t.PageSize]));
    }

    [Fact]
    public void PoolMustFitBelowTheAddressLimit()
    {
        var ex = Assert.Throws<DmaSgException>(() => new BounceDevice("bad", 64L << 20, poolDmaBase: 0xFFFF_0000));
        Assert.Equal(DmaSgError.InvalidArgument, ex.Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => new BounceDevice("bad", 1000)).Error);
    }

    [Fact]
    public void ADisposedDeviceRefusesWork()
    {
        SgTable sgt = _t.Table(1, "buf");
        var dev = new BounceDevice("gone", Pool);
        dev.MapSg(sgt, DmaDirection.ToDevice);
        long address = sgt.Dma[0].Address;
        dev.Dispose();
        dev.Dispose();

        Assert.Throws<ObjectDisposedException>(() => dev.Read(address, new byte[4]));
        Assert.Throws<ObjectDisposedException>(() => dev.MapSg(_t.Table(1, "other"), DmaDirection.ToDevice));
    }
}
