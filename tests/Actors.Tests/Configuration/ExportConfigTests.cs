using Akka.Configuration;
using DmaSg.Actors.Configuration;
using DmaSg.Memory;
using DmaSg.Memory.Backends;

namespace DmaSg.Actors.Tests.Configuration;

/// <summary>dmasg.export.providers: read from HOCON, checked at start-up, libcamera's order by default.</summary>
public class ExportConfigTests
{
    [Fact]
    public void The_default_order_is_dma_heap_then_udmabuf_then_memfd_in_hocon_and_in_code()
    {
        Assert.Equal(["dma-heap:system", "udmabuf", "memfd"], DmaSgConfig.ToSettings(Config.Empty).ExportProviders);
        Assert.Equal(ProviderChain.DefaultOrder, new DmaSgSettings().ExportProviders);
    }

    [Fact]
    public void The_order_is_read_from_hocon()
    {
        DmaSgSettings s = DmaSgConfig.ToSettings(ConfigurationFactory.ParseString("""dmasg.export.providers = ["udmabuf", "dma-heap:linux,cma", "dma-heap", "memfd"]"""));
        Assert.Equal(["udmabuf", "dma-heap:linux,cma", "dma-heap", "memfd"], s.ExportProviders);
    }

    [Theory]
    [InlineData("""dmasg.export.providers = []""")]
    [InlineData("""dmasg.export.providers = ["memfd", "shm"]""")]
    [InlineData("""dmasg.export.providers = ["memfd", "memfd"]""")]
    [InlineData("""dmasg.export.providers = ["dma-heap", "dma-heap:system"]""")]
    [InlineData("""dmasg.export.providers = ["dma-heap:../udmabuf"]""")]
    [InlineData("""dmasg.export.providers = memfd""")]
    public void A_bad_order_fails_at_start_up(string hocon)
    {
        var e = Assert.Throws<DmaSgException>(() => DmaSgConfig.ToSettings(ConfigurationFactory.ParseString(hocon)));
        Assert.Equal(DmaSgError.InvalidArgument, e.Error);
        Assert.Contains("dmasg.export.providers", e.Detail);
    }

    [Fact]
    public void Settings_built_in_code_are_checked_too()
    {
        var e = Assert.Throws<DmaSgException>(() => new DmaSgSettings { ExportProviders = ["memfd", "nvmap"] }.Validate());
        Assert.Equal(DmaSgError.InvalidArgument, e.Error);
        Assert.Contains("nvmap", e.Detail);
    }
}
