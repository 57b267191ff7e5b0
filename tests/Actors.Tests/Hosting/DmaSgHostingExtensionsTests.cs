using Akka.Actor;
using Akka.Hosting;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Hosting;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Memory.Dma;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DmaSg.Actors.Tests.Hosting;

public class DmaSgHostingExtensionsTests
{
    [Fact]
    public async Task WithDmaSg_registers_the_allocator_and_applies_the_options()
    {
        using var checker = new DmaApiChecker(new IommuDevice("gpu"));
        var options = new DmaSgOptions { ArenaSize = 4L << 20, MaxOrder = 4, DebugLevel = 1 };
        options.DeviceSpecs.Add(new DeviceSpec("camera", DeviceModel.Bounce, PoolSize: 1L << 20));
        options.Devices.Add(checker);

        using IHost host = Host.CreateDefaultBuilder()
            .ConfigureServices(services => services.AddAkka("hosting-test", builder =>
            {
                builder.AddHocon("akka.loglevel = WARNING", HoconAddMode.Prepend);
                builder.WithDmaSg(options);
            }))
            .Build();
        await host.StartAsync();
        try
        {
            IActorRef allocator = await host.Services.GetRequiredService<IRequiredActor<DmaSgAllocator>>().GetAsync();
            ActorSystem system = host.Services.GetRequiredService<ActorSystem>();
            Assert.Equal(BufferManager.Get(system).Allocator, allocator);

            AllocatorStats stats = await DmaSgAsk.Request<AllocatorStats>(system, allocator, GetStats.Instance, TimeSpan.FromSeconds(5));
            Assert.Equal((4L << 20) / Environment.SystemPageSize, stats.TotalPages);
            Assert.Equal(4, stats.MaxOrder);
            Assert.Equal(["camera", "default", "gpu"], stats.Devices.Select(d => d.Name));

            await using BufferHandle buf = await BufferManager.Get(system).AllocateAsync(8192, DmaDirection.ToDevice, "gpu");
            Assert.Equal(1, checker.LiveMappings);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task AddDmaSg_configures_the_options_in_place()
    {
        using IHost host = Host.CreateDefaultBuilder()
            .ConfigureServices(services => services.AddAkka("hosting-add", builder =>
            {
                builder.AddHocon("akka.loglevel = WARNING", HoconAddMode.Prepend);
                builder.AddDmaSg(o => o.ArenaSize = 2L << 20);
            }))
            .Build();
        await host.StartAsync();
        try
        {
            ActorSystem system = host.Services.GetRequiredService<ActorSystem>();
            AllocatorStats stats = await BufferManager.Get(system).GetStatsAsync();
            Assert.Equal((2L << 20) / Environment.SystemPageSize, stats.TotalPages);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public void Options_become_hocon_overrides()
    {
        var options = new DmaSgOptions { ArenaSize = 1 << 20, Checker = false, AskTimeout = TimeSpan.FromSeconds(2), Backend = "memfd" };
        options.DeviceSpecs.Add(new DeviceSpec("cam era", DeviceModel.Iommu));

        DmaSgSettings s = DmaSg.Actors.Configuration.DmaSgConfig.ToSettings(options.ToConfig());

        Assert.Equal(1L << 20, s.ArenaSize);
        Assert.False(s.Checker);
        Assert.Equal(TimeSpan.FromSeconds(2), s.AskTimeout);
        Assert.Contains(new DeviceSpec("cam era", DeviceModel.Iommu), s.DeviceSpecs);
    }
}
