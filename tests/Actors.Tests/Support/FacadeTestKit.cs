using Akka.Configuration;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Protocol;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests.Support;

/// <summary>An ActorSystem configured only through HOCON, used through <see cref="BufferManager"/>.</summary>
public abstract class FacadeTestKit : Akka.TestKit.Xunit2.TestKit
{
    public const string Hocon = """
        akka.loglevel = WARNING
        akka.log-dead-letters = off
        dmasg {
          arena-size = 8 MiB
          max-order = 5
          max-chunk = 3000
          devices {
            camera { model = bounce, pool-size = 4 MiB }
            encoder { model = iommu }
          }
        }
        """;

    protected FacadeTestKit(ITestOutputHelper output, string? hocon = null)
        : base(ConfigurationFactory.ParseString(hocon ?? Hocon), output: output)
    {
        Dmasg = BufferManager.Get(Sys);
    }

    protected BufferManager Dmasg { get; }

    protected static int PageSize => Environment.SystemPageSize;

    protected Task AssertNothingLeaked() =>
        AwaitAssertAsync(async () =>
        {
            AllocatorStats s = await Dmasg.GetStatsAsync();
            Assert.Equal(s.TotalPages, s.FreePages);
            Assert.Equal(0, s.DeviceMappings);
            Assert.Equal(0, s.LiveMmaps);
            Assert.Equal(0, s.Actors.Total);
            Assert.All(s.Devices, d => Assert.Equal(0, d.Violations));
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20));
}
