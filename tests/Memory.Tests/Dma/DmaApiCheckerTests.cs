using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Tests.Dma;

public sealed class DmaApiCheckerTests : IDisposable
{
    private readonly DmaTestArena _t = new();

    public DmaApiCheckerTests() => _t.Fragment();

    public enum Model
    {
        Coherent,
        Iommu,
        Bounce,
    }

    public void Dispose() => _t.Dispose();

    internal static DmaDevice NewDevice(Model model, string name, long? maxSegment = null) => model switch
    {
        Model.Coherent => new CoherentDevice(name, maxSegment),
        Model.Iommu => new IommuDevice(name, maxSegmentSize: maxSegment),
        _ => new BounceDevice(name, 4L << 20),
    };

    [Theory]
    [InlineData(Model.Coherent)]
    [InlineData(Model.Iommu)]
    [InlineData(Model.Bounce)]
    public void CorrectUseStaysQuiet(Model model)
    {
        using var checker = new DmaApiChecker(NewDevice(model, "dev"));
        SgTable sgt = _t.Table(3, "buf#1");
        checker.MapSg(sgt, DmaDirection.FromDevice, DmaAttrs.SkipCpuSync);
        checker.SyncSgForDevice(sgt, sgt.OrigNents, DmaDirection.FromDevice);
        DmaTestArena.DeviceWrite(checker, sgt, DmaTestArena.Pattern(sgt.Length, 1));
        checker.SyncSgForCpu(sgt, sgt.OrigNents, DmaDirection.FromDevice);
        checker.UnmapSg(sgt, sgt.OrigNents, DmaDirection.FromDevice, DmaAttrs.SkipCpuSync);

        Assert.Empty(checker.Violations);
        Assert.Equal(0, checker.LiveMappings);
        Assert.Equal(0, checker.Inner.LiveMappings);
    }

    [Fact]
    public void UnmapOfNeverMappedMemoryIsNotMapped()
    {
        using var checker = new DmaApiChecker(new CoherentDevice("dev"));
        SgTable sgt = _t.Table(1, "buf#2");

        var ex = Assert.Throws<DmaApiException>(() => checker.UnmapSg(sgt, 1, DmaDirection.ToDevice));

        Assert.Equal(DmaApiViolationKind.NotMapped, ex.Kind);
        Assert.Equal(DmaSgError.DmaApiViolation, ex.Error);
        Assert.StartsWith("DMA-API: ", ex.Violation.Message);
        Assert.Equal("buf#2", ex.Violation.Owner);
        Assert.Equal("dev", ex.Violation.Device);
        Assert.Single(checker.Violations);
    }

    [Theory]
    [InlineData(Model.Coherent)]
    [InlineData(Model.Iommu)]
    [InlineData(Model.Bounce)]
    public void DoubleUnmapIsNotMapped(Model model)
    {
        using var checker = new DmaApiChecker(NewDevice(model, "dev"));
        SgTable sgt = _t.Table(2, "buf#3");
        checker.MapSg(sgt, DmaDirection.ToDevice);
        checker.UnmapSg(sgt, sgt.OrigNents, DmaDirection.ToDevice);

        var ex = Assert.Throws<DmaApiException>(() => checker.UnmapSg(sgt, sgt.OrigNents, DmaDirection.ToDevice));

        Assert.Equal(DmaApiViolationKind.NotMapped, ex.Kind);
        Assert.Contains("has not allocated", ex.Message);
    }

    [Fact]
    public void UnmapThroughATableOfAnotherSizeIsUnmapSizeMismatch()
    {
        using var checker = new DmaApiChecker(new IommuDevice("gpu0"));
        SgTable sgt = _t.Table(3, "buf#4");
        checker.MapSg(sgt, DmaDirection.ToDevice);

        // A table that claims the same DMA address but describes fewer bytes (a stale copy).
        SgTable stale = _t.Table(1, "buf#4-stale");
        stale.SetDmaMapping([sgt.Dma[0]]);

        var ex = Assert.Throws<DmaApiException>(() => checker.UnmapSg(stale, sgt.OrigNents, DmaDirection.ToDevice));

        Assert.Equal([DmaApiViolationKind.UnmapSizeMismatch], ex.Violations.Select(v => v.Kind));
        Assert.Equal("buf#4", ex.Violation.Owner);
        Assert.NotNull(ex.Violation.Mapping);
        Assert.True(sgt.IsMapped);
        Assert.Equal(1, checker.Inner.LiveMappings);
    }

    [Theory]
    [InlineData(Model.Coherent)]
    [InlineData(Model.Iommu)]
    [InlineData(Model.Bounce)]
    public void UnmapWithAnotherEntryCountIsUnmapNentsMismatch(Model model)
    {
        using var checker = new DmaApiChecker(NewDevice(model, "dev"));
        SgTable sgt = _t.Table(3, "buf#5");
        checker.MapSg(sgt, DmaDirection.ToDevice);

        var ex = Assert.Throws<DmaApiException>(() => checker.UnmapSg(sgt, 1, DmaDirection.ToDevice));

        Assert.Equal([DmaApiViolationKind.UnmapNentsMismatch], ex.Violations.Select(v => v.Kind));
        // Rejected in Throw mode: not forwarded, still mapped on both sides, and a correct unmap works.
        Assert.True(sgt.IsMapped);
        Assert.Equal(1, checker.LiveMappings);
        Assert.Equal(1, checker.Inner.LiveMappings);
        checker.UnmapSg(sgt, sgt.OrigNents, DmaDirection.ToDevice);
        Assert.Equal(0, checker.Inner.LiveMappings);
    }

    [Theory]
    [InlineData(DmaDirection.ToDevice, DmaDirection.FromDevice)]
    [InlineData(DmaDirection.Bidirectional, DmaDirection.ToDevice)]
    [InlineData(DmaDirection.FromDevice, DmaDirection.None)]
    public void UnmapWithAnotherDirectionIsUnmapDirectionMismatch(DmaDirection mapped, DmaDirection unmapped)
    {
        using var checker = new DmaApiChecker(new CoherentDevice("dev"));
        SgTable sgt = _t.Table(2, "buf#6");
        checker.MapSg(sgt, mapped);

        var ex = Assert.Throws<DmaApiException>(() => checker.UnmapSg(sgt, sgt.OrigNents, unmapped));

        Assert.Equal([DmaApiViolationKind.UnmapDirectionMismatch], ex.Violations.Select(v => v.Kind));
    }

    [Fact]
    public void AnUnmapCanBreakSeveralRulesAtOnce()
    {
        using var checker = new DmaApiChecker(new CoherentDevice("dev"));
        SgTable sgt = _t.Table(2, "buf#7");
        checker.MapSg(sgt, DmaDirection.ToDevice);

        var ex = Assert.Throws<DmaApiException>(() => checker.UnmapSg(sgt, 1, DmaDirection.FromDevice));

        Assert.Equal([DmaApiViolationKind.UnmapNentsMismatch, DmaApiViolationKind.UnmapDirectionMismatch], ex.Violations.Select(v => v.Kind));
        Assert.Equal(2, checker.Violations.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SyncOfUnmappedMemoryIsSyncNotMapped(bool forCpu)
    {
        using var checker = new DmaApiChecker(new BounceDevice("dev", 4L << 20));
        SgTable sgt = _t.Table(2, "buf#8");
        checker.MapSg(sgt, DmaDirection.Bidirectional);
        checker.UnmapSg(sgt, sgt.OrigNents, DmaDirection.Bidirectional);

        var ex = Assert.Throws<DmaApiException>(() =>
        {
            if (forCpu)
            {
                checker.SyncSgForCpu(sgt, sgt.OrigNents, DmaDirection.Bidirectional);
            }
            else
            {
                checker.SyncSgForDevice(sgt, sgt.OrigNents, DmaDirection.Bidirectional);
            }
        });

        Assert.Equal(DmaApiViolationKind.SyncNotMapped, ex.Kind);
    }

    [Fact]
    public void SyncThroughALargerTableIsSyncOutsideRange()
    {
        using var checker = new DmaApiChecker(new IommuDevice("gpu0"));
        SgTable sgt = _t.Table(1, "buf#9");
        checker.MapSg(sgt, DmaDirection.Bidirectional);
        SgTable larger = _t.Table(2, "buf#9-larger");
        larger.SetDmaMapping([sgt.Dma[0]]);

        var ex = Assert.Throws<DmaApiException>(() => checker.SyncSgForCpu(larger, 1, DmaDirection.Bidirectional));

        Assert.Contains(DmaApiViolationKind.SyncOutsideRange, ex.Violations.Select(v => v.Kind));
    }

    [Theory]
    [InlineData(DmaDirection.ToDevice, true, DmaDirection.FromDevice, new[] { DmaApiViolationKind.SyncDirectionMismatch, DmaApiViolationKind.SyncForCpuOfToDevice })]
    [InlineData(DmaDirection.ToDevice, true, DmaDirection.Bidirectional, new[] { DmaApiViolationKind.SyncDirectionMismatch, DmaApiViolationKind.SyncForCpuOfToDevice })]
    [InlineData(DmaDirection.FromDevice, false, DmaDirection.ToDevice, new[] { DmaApiViolationKind.SyncDirectionMismatch, DmaApiViolationKind.SyncForDeviceOfFromDevice })]
    [InlineData(DmaDirection.FromDevice, false, DmaDirection.Bidirectional, new[] { DmaApiViolationKind.SyncDirectionMismatch, DmaApiViolationKind.SyncForDeviceOfFromDevice })]
    [InlineData(DmaDirection.FromDevice, true, DmaDirection.ToDevice, new[] { DmaApiViolationKind.SyncDirectionMismatch })]
    [InlineData(DmaDirection.ToDevice, false, DmaDirection.FromDevice, new[] { DmaApiViolationKind.SyncDirectionMismatch })]
    public void SyncAgainstTheMappingsDirectionIsFlagged(DmaDirection mapped, bool forCpu, DmaDirection synced, DmaApiViolationKind[] expected)
    {
        using var checker = new DmaApiChecker(new CoherentDevice("dev"));
        SgTable sgt = _t.Table(2, "buf#10");
        checker.MapSg(sgt, mapped);

        var ex = Assert.Throws<DmaApiException>(() => Sync(checker, sgt, forCpu, synced));

        Assert.Equal(expected, ex.Violations.Select(v => v.Kind));
        Assert.All(ex.Violations, v => Assert.StartsWith("DMA-API: ", v.Message));
    }

    [Theory]
    [InlineData(DmaDirection.ToDevice, true)]
    [InlineData(DmaDirection.ToDevice, false)]
    [InlineData(DmaDirection.FromDevice, true)]
    [InlineData(DmaDirection.FromDevice, false)]
    public void SyncWithTheMappingsOwnDirectionIsLegalBothWays(DmaDirection dir, bool forCpu)
    {
        // vb2 prepare() syncs every buffer for the device and finish() every buffer for the cpu.
        using var checker = new DmaApiChecker(new CoherentDevice("dev"));
        SgTable sgt = _t.Table(2, "buf#11");
        checker.MapSg(sgt, dir);

        Sync(checker, sgt, forCpu, dir);

        Assert.Empty(checker.Violations);
    }

    [Theory]
    [InlineData(DmaDirection.ToDevice)]
    [InlineData(DmaDirection.FromDevice)]
    [InlineData(DmaDirection.None)]
    public void DirectionChecksAreSkippedForBidirectional(DmaDirection synced)
    {
        using var checker = new DmaApiChecker(new CoherentDevice("dev"), DmaApiCheckerMode.Record);
        SgTable sgt = _t.Table(2, "buf#12");
        checker.MapSg(sgt, DmaDirection.Bidirectional);

        checker.SyncSgForDevice(sgt, sgt.OrigNents, synced == DmaDirection.None ? DmaDirection.ToDevice : synced);
        checker.SyncSgForCpu(sgt, sgt.OrigNents, synced == DmaDirection.None ? DmaDirection.FromDevice : synced);

        Assert.Empty(checker.Violations);
    }

    [Theory]
    [InlineData(Model.Coherent)]
    [InlineData(Model.Iommu)]
    [InlineData(Model.Bounce)]
    public void SyncWithAnotherEntryCountIsSyncNentsMismatch(Model model)
    {
        using var checker = new DmaApiChecker(NewDevice(model, "dev"));
        SgTable sgt = _t.Table(3, "buf#13");
        checker.MapSg(sgt, DmaDirection.Bidirectional);

        var ex = Assert.Throws<DmaApiException>(() => checker.SyncSgForDevice(sgt, 2, DmaDirection.Bidirectional));

        Assert.Equal([DmaApiViolationKind.SyncNentsMismatch], ex.Violations.Select(v => v.Kind));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DeviceAccessOutsideEveryMappingIsAccessOutsideMapping(bool write)
    {
        using var checker = new DmaApiChecker(new IommuDevice("gpu0"));
        SgTable sgt = _t.Table(1, "buf#14");
        checker.MapSg(sgt, DmaDirection.Bidirectional);
        long end = sgt.Dma[0].End;

        // Starts inside, runs past the end.
        var ex = Assert.Throws<DmaApiException>(() => Access(checker, end - 8, 16, write));

        Assert.Equal(DmaApiViolationKind.AccessOutsideMapping, ex.Kind);
    }

    [Theory]
    [InlineData(DmaDirection.ToDevice, true)]
    [InlineData(DmaDirection.FromDevice, false)]
    public void DeviceAccessAgainstTheDirectionIsAccessAgainstDirection(DmaDirection mapped, bool write)
    {
        using var checker = new DmaApiChecker(new CoherentDevice("dev"));
        SgTable sgt = _t.Table(1, "buf#15");
        checker.MapSg(sgt, mapped);
        byte[] before = DmaTestArena.CpuRead(sgt);

        var ex = Assert.Throws<DmaApiException>(() => Access(checker, sgt.Dma[0].Address, 16, write, fill: 0x5A));

        Assert.Equal(DmaApiViolationKind.AccessAgainstDirection, ex.Kind);
        Assert.Equal("buf#15", ex.Violation.Owner);
        Assert.Equal(before, DmaTestArena.CpuRead(sgt));
    }

    [Theory]
    [InlineData(Model.Coherent)]
    [InlineData(Model.Iommu)]
    [InlineData(Model.Bounce)]
    public void SegmentLongerThanTheDeviceSupportsIsSegmentTooLong(Model model)
    {
        using var checker = new DmaApiChecker(NewDevice(model, "dev", maxSegment: 16L * _t.PageSize));
        // A power of two pages comes as one buddy block, so the table has one entry of twice the limit.
        long needed = 2 * checker.MaxSegmentSize;
        using var fresh = new DmaTestArena((int)(2 * needed / _t.PageSize) + 8);
        SgTable sgt = fresh.Table((int)(needed / _t.PageSize), "buf#16");
        Assert.True(sgt.Entries[0].Length > checker.MaxSegmentSize);

        var ex = Assert.Throws<DmaApiException>(() => checker.MapSg(sgt, DmaDirection.ToDevice));

        Assert.Equal(DmaApiViolationKind.SegmentTooLong, ex.Kind);
        Assert.Contains("longer than device claims to support", ex.Message);
        Assert.False(sgt.IsMapped);
        Assert.Equal(0, checker.Inner.LiveMappings);
    }

    [Fact]
    public void RemovingTheDeviceWithLiveMappingsIsPendingOnRemove()
    {
        var checker = new DmaApiChecker(new IommuDevice("gpu0"));
        using var _ = checker;
        SgTable a = _t.Table(1, "buf#17");
        SgTable b = _t.Table(2, "buf#18");
        checker.MapSg(a, DmaDirection.ToDevice);
        checker.MapSg(b, DmaDirection.FromDevice);

        var ex = Assert.Throws<DmaApiException>(() => checker.Remove());

        Assert.Equal(DmaApiViolationKind.PendingOnRemove, ex.Kind);
        Assert.Contains("pending DMA allocations while released from device [count=2]", ex.Message);
        Assert.Contains("buf#17", ex.Violation.Owner);
        Assert.Contains("buf#18", ex.Violation.Owner);
        Assert.True(checker.IsRemoved);
        Assert.Equal(DmaSgError.DeviceGone, Assert.Throws<DmaSgException>(() => checker.Get()).Error);
    }

    [Fact]
    public void RemovingACleanDeviceReportsNothing()
    {
        using var checker = new DmaApiChecker(new CoherentDevice("dev"));
        SgTable sgt = _t.Table(1, "buf");
        checker.MapSg(sgt, DmaDirection.ToDevice);
        checker.UnmapSg(sgt, 1, DmaDirection.ToDevice);

        DeviceRemovalReport report = checker.Remove();

        Assert.True(report.IsClean);
        Assert.Empty(checker.Violations);
    }

    [Fact]
    public void RecordModeRecordsForwardsWhatIsSafeAndClears()
    {
        using var checker = new DmaApiChecker(new IommuDevice("gpu0"), DmaApiCheckerMode.Record);
        SgTable sgt = _t.Table(3, "buf#19");
        checker.MapSg(sgt, DmaDirection.FromDevice);

        // Wrong count (the IOMMU's nents): recorded, and forwarded because the table is mapped.
        checker.SyncSgForCpu(sgt, sgt.Nents, DmaDirection.FromDevice);
        // A device read of FromDevice memory: recorded, and the device really reads.
        var seen = new byte[4];
        checker.Read(sgt.Dma[0].Address, seen);
        // Wrong direction on unmap: recorded, and the mapping really goes away.
        checker.UnmapSg(sgt, sgt.OrigNents, DmaDirection.Bidirectional);
        Assert.False(sgt.IsMapped);
        Assert.Equal(0, checker.Inner.LiveMappings);
        // Double unmap and access outside: recorded, nothing to forward.
        checker.UnmapSg(sgt, sgt.OrigNents, DmaDirection.FromDevice);
        checker.Write(IommuDevice.DefaultIovaBase, new byte[4]);

        Assert.Equal(
            [DmaApiViolationKind.SyncNentsMismatch, DmaApiViolationKind.AccessAgainstDirection, DmaApiViolationKind.UnmapDirectionMismatch,
             DmaApiViolationKind.NotMapped, DmaApiViolationKind.AccessOutsideMapping],
            checker.Violations.Select(v => v.Kind));
        Assert.All(checker.Violations, v => Assert.StartsWith("DMA-API: ", v.Message));
        Assert.Equal(0, checker.LiveMappings);

        checker.Clear();
        Assert.Empty(checker.Violations);
    }

    [Fact]
    public void RecordModeStillSurfacesTheDevicesOwnErrors()
    {
        using var checker = new DmaApiChecker(new BounceDevice("dma32", 4L << 20), DmaApiCheckerMode.Record);
        using var big = new DmaTestArena(256);
        SgTable sgt = big.Table((int)(2 * BounceDevice.MaxMappingSize / big.PageSize), "huge");

        var ex = Assert.Throws<DmaSgException>(() => checker.MapSg(sgt, DmaDirection.FromDevice));

        Assert.Equal(DmaSgError.OutOfMemory, ex.Error);
        Assert.Contains("bounce buffer full", ex.Message);
        Assert.Equal([DmaApiViolationKind.SegmentTooLong], checker.Violations.Select(v => v.Kind));
        Assert.Equal(0, checker.LiveMappings);
    }

    [Fact]
    public void TheCheckerRecordsTheMappingAsMade()
    {
        using var checker = new DmaApiChecker(new IommuDevice("gpu0"));
        SgTable sgt = _t.Table(3, "buf#20");
        checker.MapSg(sgt, DmaDirection.ToDevice);

        DmaMappingRecord record = Assert.Single(checker.Mappings);
        Assert.Equal("buf#20", record.Owner);
        Assert.Equal(3, record.OrigNents);
        Assert.Equal(1, record.Nents);
        Assert.Equal(DmaDirection.ToDevice, record.Direction);
        Assert.Equal(sgt.Length, record.Length);
        Assert.Equal(sgt.Dma.ToArray(), record.Segments);
    }

    private static void Sync(IDmaDevice dev, SgTable sgt, bool forCpu, DmaDirection dir)
    {
        if (forCpu)
        {
            dev.SyncSgForCpu(sgt, sgt.OrigNents, dir);
        }
        else
        {
            dev.SyncSgForDevice(sgt, sgt.OrigNents, dir);
        }
    }

    private static void Access(IDmaDevice dev, long address, int length, bool write, byte fill = 0)
    {
        var buffer = new byte[length];
        Array.Fill(buffer, fill);
        if (write)
        {
            dev.Write(address, buffer);
        }
        else
        {
            dev.Read(address, buffer);
        }
    }
}
