using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;
using Model = DmaSg.Memory.Tests.Dma.DmaApiCheckerTests.Model;

namespace DmaSg.Memory.Tests.Dma;

public sealed class DmaDeviceRefCountTests : IDisposable
{
    private readonly DmaTestArena _t = new();

    public void Dispose() => _t.Dispose();

    [Theory]
    [InlineData(Model.Coherent)]
    [InlineData(Model.Iommu)]
    [InlineData(Model.Bounce)]
    public void GetAndPutCount(Model model)
    {
        using DmaDevice dev = DmaApiCheckerTests.NewDevice(model, "dev");
        dev.Get();
        dev.Get();
        Assert.Equal(2, dev.RefCount);
        dev.Put();
        dev.Put();
        Assert.Equal(0, dev.RefCount);
        Assert.Throws<InvalidOperationException>(dev.Put);
        Assert.Equal(0, dev.RefCount);
    }

    [Theory]
    [InlineData(Model.Coherent)]
    [InlineData(Model.Iommu)]
    [InlineData(Model.Bounce)]
    public void RemoveReportsLiveRefsAndMappingsAndRefusesNewWork(Model model)
    {
        using DmaDevice dev = DmaApiCheckerTests.NewDevice(model, "usb-cam");
        SgTable a = _t.Table(1, "buf#1");
        SgTable b = _t.Table(2, "buf#2");
        dev.Get();
        dev.Get();
        dev.MapSg(a, DmaDirection.FromDevice);
        dev.MapSg(b, DmaDirection.FromDevice);
        dev.UnmapSg(a, a.OrigNents, DmaDirection.FromDevice);

        DeviceRemovalReport report = dev.Remove();

        Assert.False(report.IsClean);
        Assert.Equal("usb-cam", report.Device);
        Assert.Equal(2, report.LiveRefs);
        Assert.Equal(1, report.LiveMappings);
        Assert.Equal(["buf#2"], report.MappingOwners);
        Assert.Contains("buf#2", report.ToString());
        Assert.True(dev.IsRemoved);

        Assert.Equal(DmaSgError.DeviceGone, Assert.Throws<DmaSgException>(dev.Get).Error);
        Assert.Equal(DmaSgError.DeviceGone, Assert.Throws<DmaSgException>(() => dev.MapSg(a, DmaDirection.FromDevice)).Error);
        Assert.False(a.IsMapped);

        // What was live can still be torn down: buffers release their mappings and refs after the unplug.
        dev.SyncSgForCpu(b, b.OrigNents, DmaDirection.FromDevice);
        dev.UnmapSg(b, b.OrigNents, DmaDirection.FromDevice);
        dev.Put();
        dev.Put();
        Assert.True(dev.Remove().IsClean);
    }

    [Fact]
    public void RemovingAnIdleDeviceIsClean()
    {
        using var dev = new IommuDevice("idle");
        dev.Get();
        dev.Put();

        DeviceRemovalReport report = dev.Remove();

        Assert.True(report.IsClean);
        Assert.Empty(report.MappingOwners);
    }

    [Fact]
    public void TheCheckerForwardsRefsToTheDevice()
    {
        using var dev = new CoherentDevice("dev");
        using var checker = new DmaApiChecker(dev, leaveInnerOpen: true);
        checker.Get();
        Assert.Equal(1, dev.RefCount);
        Assert.Equal(1, checker.RefCount);
        checker.Put();
        Assert.Equal(0, dev.RefCount);

        checker.Remove();
        Assert.True(dev.IsRemoved);
        Assert.Equal(DmaSgError.DeviceGone, Assert.Throws<DmaSgException>(checker.Get).Error);
        Assert.Empty(checker.Violations);
    }
}
