using DmaSg.Interop;
using DmaSg.Kernel.Tests.Support;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Backends;

namespace DmaSg.Kernel.Tests.Backends;

/// <summary>1,000 export/close cycles of each kind leave /proc/self/fd exactly as it was.</summary>
public sealed class FdLeakTests
{
    private const int Cycles = 1000;
    private static readonly int Page = Arenas.Page;

    [Fact]
    public void Heap_allocate_map_send_close_1000_times_leaks_no_fd()
    {
        Devices.RequireDmaHeap();
        using var heap = new DmaHeapProvider();
        heap.Probe();
        Cycle(() => heap.Allocate(Page, "leak-heap"));
    }

    [Fact]
    public void Udmabuf_export_map_send_close_1000_times_leaks_no_fd()
    {
        Devices.RequireUdmabuf();
        using var udmabuf = new UdmabufProvider();
        udmabuf.Probe();
        using PageArena arena = Arenas.Create();
        int[] pages = Arenas.TakePages(arena, 7, 3, 4);
        var sgt = Arenas.Table(arena, pages);
        Cycle(() => udmabuf.Export(arena, sgt, "leak-udmabuf"));
    }

    [Fact]
    public void Chain_fallback_to_memfd_1000_times_leaks_no_fd()
    {
        using var chain = new ProviderChain(["dma-heap:dmasg-no-such-heap", "memfd"]);
        using PageArena arena = Arenas.Create();
        int[] pages = Arenas.TakePages(arena, 2, 9);
        Cycle(() => chain.Export(arena, pages, "leak-memfd"));
    }

    /// <summary>Each cycle: export, map, send to a socket peer, receive there, close everything.</summary>
    private static void Cycle(Func<ExportedBuffer> export)
    {
        (FdChannel a, FdChannel b) = FdChannel.CreatePair();
        using (a)
        using (b)
        {
            // One cycle first, so whatever the runtime opens once for good (JIT, lazily loaded code) is there before we count.
            RunCycle(a, b, export, 0);
            var before = ProcFds.Snapshot();
            for (int i = 1; i <= Cycles; i++)
            {
                RunCycle(a, b, export, i);
            }

            ProcFds.AssertSame(before, ProcFds.Snapshot());
        }
    }

    private static void RunCycle(FdChannel a, FdChannel b, Func<ExportedBuffer> export, int i)
    {
        using ExportedBuffer buffer = export();
        using (SafeMapping map = buffer.Map())
        {
            map.AsSpan()[0] = (byte)i;
        }

        a.SendBuffer(buffer);
        using ExportedBuffer received = b.ReceiveBuffer(TimeSpan.FromSeconds(30));
        Assert.Equal(buffer.Kind, received.Kind);
    }
}
