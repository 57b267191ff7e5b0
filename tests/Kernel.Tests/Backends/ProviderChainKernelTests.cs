using DmaSg.Interop;
using DmaSg.Kernel.Tests.Support;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Backends;

namespace DmaSg.Kernel.Tests.Backends;

/// <summary>The provider chain on a kernel that has both devices.</summary>
public sealed class ProviderChainKernelTests
{
    private static readonly int Page = Arenas.Page;

    [Fact]
    public void Default_order_allocates_from_the_system_heap()
    {
        Devices.RequireDmaHeap();
        var log = new List<string>();
        using var chain = new ProviderChain(ProviderChain.DefaultOrder, log.Add);

        using ExportedBuffer buffer = chain.Allocate(2 * Page, "default");

        Assert.Equal(ExportKind.DmaHeap, buffer.Kind);
        Assert.Equal("dma-heap:system", buffer.Provider);
        Assert.Empty(log);
    }

    [Fact]
    public void Missing_heap_falls_back_to_udmabuf_logged_once()
    {
        Devices.RequireUdmabuf();
        var log = new List<string>();
        using var chain = new ProviderChain(["dma-heap:dmasg-no-such-heap", "udmabuf", "memfd"], log.Add);
        using PageArena arena = Arenas.Create();
        int[] pages = Arenas.TakePages(arena, 3, 1);

        for (int i = 0; i < 3; i++)
        {
            using ExportedBuffer buffer = chain.Export(arena, pages, "fallback");
            Assert.Equal(ExportKind.Udmabuf, buffer.Kind);
            Assert.True(buffer.SharesArenaPages);
        }

        string line = Assert.Single(log);
        Assert.Contains("dma-heap:dmasg-no-such-heap is unusable", line);
        Assert.Contains("ENOENT", line);
    }

    [Fact]
    public void Udmabuf_limit_falls_back_to_memfd_for_that_buffer_only()
    {
        Devices.RequireUdmabuf();
        var log = new List<string>();
        using var chain = new ProviderChain(["udmabuf", "memfd"], log.Add);

        using (ExportedBuffer big = chain.Allocate((64L << 20) + Page, "big"))
        {
            Assert.Equal(ExportKind.Memfd, big.Kind);
        }

        using (ExportedBuffer small = chain.Allocate(Page, "small"))
        {
            Assert.Equal(ExportKind.Udmabuf, small.Kind);
        }

        string line = Assert.Single(log);
        Assert.Contains("size_limit_mb=64", line);
    }

    [Fact]
    public void Heap_export_of_an_arena_buffer_is_a_copy()
    {
        Devices.RequireDmaHeap();
        using var chain = new ProviderChain(["dma-heap:system"]);
        using PageArena arena = Arenas.Create();
        int[] pages = Arenas.TakePages(arena, 6, 2);
        arena.PageSpan(6).Fill(1);
        arena.PageSpan(2).Fill(2);

        using ExportedBuffer buffer = chain.Export(arena, pages, "copy");
        using SafeMapping map = buffer.Map();

        Assert.False(buffer.SharesArenaPages);
        buffer.BeginCpuAccess(Memory.Dma.DmaDirection.FromDevice);
        Assert.True(map.AsSpan()[..Page].IndexOfAnyExcept((byte)1) < 0);
        Assert.True(map.AsSpan()[Page..].IndexOfAnyExcept((byte)2) < 0);
        buffer.EndCpuAccess(Memory.Dma.DmaDirection.FromDevice);
    }
}
