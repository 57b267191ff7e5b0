using Akka.Configuration;
using DmaSg.Actors.Configuration;
using DmaSg.Actors.Hosting;
using DmaSg.Actors.Protocol;
using DmaSg.Memory;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Tests.Pools;

/// <summary><c>dmasg.pools</c> and <c>dmasg.quota</c> read from HOCON into the settings.</summary>
public class PoolConfigReaderTests
{
    [Fact]
    public void The_reference_defaults_are_the_code_defaults()
    {
        DmaSgSettings fromHocon = DmaSgConfig.ToSettings(Config.Empty);
        var fromCode = new DmaSgSettings();

        Assert.Equal(fromCode.Pools, fromHocon.Pools);
        Assert.Equal(fromCode.QuotaDefaultPages, fromHocon.QuotaDefaultPages);
        Assert.Equal(0, fromHocon.QuotaDefaultPages);
        Assert.Equal(
            (0, 16, false, PoolEmptyPolicy.Wait, TimeSpan.FromSeconds(5), 64, DmaDirection.Bidirectional, "default"),
            (fromHocon.Pools.MinBuffers, fromHocon.Pools.MaxBuffers, fromHocon.Pools.ZeroOnRecycle, fromHocon.Pools.WhenEmpty,
                fromHocon.Pools.AcquireTimeout, fromHocon.Pools.MaxWaiters, fromHocon.Pools.Direction, fromHocon.Pools.Device));
    }

    [Fact]
    public void Every_pool_and_quota_key_is_read()
    {
        DmaSgSettings s = DmaSgConfig.ToSettings(ConfigurationFactory.ParseString("""
            dmasg {
              quota.default-pages = 768
              pools {
                min-buffers = 2
                max-buffers = 0
                zero-on-recycle = on
                when-empty = fail
                acquire-timeout = 250ms
                max-waiters = 3
                direction = to-device
                device = enc
              }
              devices.enc.model = iommu
            }
            """));

        Assert.Equal(768, s.QuotaDefaultPages);
        Assert.Equal(
            new PoolConfig
            {
                MinBuffers = 2,
                MaxBuffers = 0,
                ZeroOnRecycle = true,
                WhenEmpty = PoolEmptyPolicy.Fail,
                AcquireTimeout = TimeSpan.FromMilliseconds(250),
                MaxWaiters = 3,
                Direction = DmaDirection.ToDevice,
                Device = "enc",
            },
            s.Pools);
    }

    [Theory]
    [InlineData("dmasg.pools.when-empty = sometimes")]
    [InlineData("dmasg.pools.direction = sideways")]
    [InlineData("dmasg.pools.direction = none")]
    [InlineData("dmasg.pools.min-buffers = -1")]
    [InlineData("dmasg.pools { min-buffers = 5, max-buffers = 4 }")]
    [InlineData("dmasg.pools.max-waiters = -2")]
    [InlineData("dmasg.pools.acquire-timeout = 0s")]
    [InlineData("dmasg.quota.default-pages = -1")]
    public void Bad_values_are_invalid_arguments(string hocon)
    {
        var e = Assert.Throws<DmaSgException>(() => DmaSgConfig.ToSettings(ConfigurationFactory.ParseString(hocon)));
        Assert.Equal(DmaSgError.InvalidArgument, e.Error);
    }

    [Fact]
    public void The_hosting_option_sets_the_default_quota()
    {
        Config c = new DmaSgOptions { QuotaDefaultPages = 42 }.ToConfig();

        Assert.Equal(42, DmaSgConfig.ToSettings(c).QuotaDefaultPages);
        Assert.False(new DmaSgOptions().ToConfig().HasPath("dmasg.quota.default-pages"));
    }
}
