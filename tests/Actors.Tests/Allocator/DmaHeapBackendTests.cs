using Akka.Configuration;
using DmaSg.Actors.Configuration;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Tests.Support;
using DmaSg.Memory;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests.Allocator;

/// <summary>
/// dmasg.backend = dma-heap on a machine without the heap (the heap is named so that it exists nowhere):
/// allocation fails with DeviceGone naming the device, or, with dma-heap.fallback = memfd, takes arena pages.
/// The working backend is proven in tests/Kernel.Tests.
/// </summary>
public sealed class DmaHeapBackendTests(ITestOutputHelper output) : FacadeTestKit(output, HeapHocon("none"))
{
    private const string MissingDevice = "dmasg.backend = dma-heap: missing device /dev/dma_heap/dmasg-absent-heap";

    public static string HeapHocon(string fallback) => $$"""
        akka.loglevel = WARNING
        akka.log-dead-letters = off
        dmasg {
          arena-size = 4 MiB
          max-order = 4
          backend = dma-heap
          dma-heap { heap = dmasg-absent-heap, fallback = {{fallback}} }
          export.providers = ["dma-heap:dmasg-absent-heap", "memfd"]
        }
        """;

    [Fact]
    public async Task Without_the_heap_allocation_fails_naming_the_device_logged_once_and_nothing_changes()
    {
        await EventFilter.Warning(start: MissingDevice).ExpectOneAsync(async () =>
        {
            for (int i = 0; i < 3; i++)
            {
                var e = await Assert.ThrowsAsync<DmaSgException>(() => Dmasg.AllocateAsync(3L * PageSize));
                Assert.Equal(DmaSgError.DeviceGone, e.Error);
                Assert.Contains("/dev/dma_heap/dmasg-absent-heap", e.Detail);
            }
        });

        // A bad request is refused before the heap is asked.
        Assert.Equal(DmaSgError.InvalidArgument, (await Assert.ThrowsAsync<DmaSgException>(() => Dmasg.AllocateAsync(0))).Error);
        Assert.Equal(DmaSgError.InvalidArgument, (await Assert.ThrowsAsync<DmaSgException>(() => Dmasg.AllocateAsync(PageSize, DmaDirection.None))).Error);

        // USERPTR memory is the caller's, whatever the backend.
        var user = new byte[2 * PageSize];
        await using (BufferHandle u = await Dmasg.UserptrAsync(user.AsMemory(), DmaDirection.ToDevice))
        {
            Assert.True(u.IsUserptr);
        }

        AllocatorStats s = await Dmasg.GetStatsAsync();
        Assert.Equal(3, s.AllocationFailures); // the heap's refusals; bad requests are refused before allocating
        await AssertNothingLeaked();
    }

    [Fact]
    public void The_backend_settings_are_read_and_checked()
    {
        DmaSgSettings s = DmaSgConfig.ToSettings(ConfigurationFactory.ParseString("""
            dmasg { backend = dma-heap, dma-heap { heap = "linux,cma", fallback = memfd } }
            """));
        Assert.True(s.UsesDmaHeap);
        Assert.Equal("linux,cma", s.DmaHeapName);
        Assert.Equal("memfd", s.DmaHeapFallback);

        DmaSgSettings defaults = DmaSgConfig.ToSettings(Config.Empty);
        Assert.False(defaults.UsesDmaHeap);
        Assert.Equal(DmaHeapProvider.DefaultHeap, defaults.DmaHeapName);
        Assert.Equal("none", defaults.DmaHeapFallback);

        foreach (string bad in new[] { "dmasg.dma-heap.fallback = udmabuf", "dmasg.dma-heap.heap = \"../system\"", "dmasg.dma-heap.heap = \"\"" })
        {
            var e = Assert.Throws<DmaSgException>(() => DmaSgConfig.ToSettings(ConfigurationFactory.ParseString(bad)));
            Assert.Equal(DmaSgError.InvalidArgument, e.Error);
        }
    }
}

/// <summary>dma-heap.fallback = memfd: a heap that cannot serve hands the allocation to the arena, logged once.</summary>
public sealed class DmaHeapFallbackTests(ITestOutputHelper output) : FacadeTestKit(output, DmaHeapBackendTests.HeapHocon("memfd"))
{
    [Fact]
    public async Task Without_the_heap_buffers_take_arena_pages_and_the_reason_is_logged_once()
    {
        var buffers = new List<BufferHandle>();
        await EventFilter.Warning(contains: "falling back to arena pages").ExpectOneAsync(async () =>
        {
            for (int i = 0; i < 3; i++)
            {
                buffers.Add(await Dmasg.AllocateAsync(2L * PageSize));
            }
        });

        Assert.Equal(6, (await Dmasg.GetStatsAsync()).AllocatedPages);
        await using (FdHandle fd = await buffers[0].ExportFdAsync())
        {
            // An arena buffer: the export is the configured chain's (here a memfd copy), not a heap dmabuf of its own.
            Assert.Equal(ExportKind.Memfd, fd.Kind);
            Assert.False(fd.IsZeroCopy);
        }

        foreach (BufferHandle b in buffers)
        {
            await b.DisposeAsync();
        }

        await AssertNothingLeaked();
    }
}
