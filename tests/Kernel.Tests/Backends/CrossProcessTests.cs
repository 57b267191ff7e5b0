using DmaSg.Interop;
using DmaSg.Kernel.Tests.Support;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Dma;

namespace DmaSg.Kernel.Tests.Backends;

/// <summary>
/// A buffer's fd goes to a second process over a Unix socket (SCM_RIGHTS). We write, close our fd (keeping
/// only a mapping) and send; the child maps, closes its fd, checks our bytes, writes its own and exits;
/// then we read the child's bytes through our mapping. Neither side's close freed what the other maps.
/// </summary>
public sealed class CrossProcessTests
{
    private static readonly int Page = Arenas.Page;

    [Fact]
    public void Heap_buffer_is_shared_with_a_child_process()
    {
        Devices.RequireDmaHeap();
        using var heap = new DmaHeapProvider();
        ExportedBuffer buffer = heap.Allocate(16 * Page, "xproc-heap");
        RoundTrip(buffer, arena: null, pages: null);
    }

    [Fact]
    public void Udmabuf_of_a_multi_segment_arena_buffer_is_shared_with_a_child_process()
    {
        Devices.RequireUdmabuf();
        using PageArena arena = Arenas.Create();
        int[] pages = Arenas.TakePages(arena, 11, 4, 5, 20, 1);
        using var udmabuf = new UdmabufProvider();
        ExportedBuffer buffer = udmabuf.Export(arena, Arenas.Table(arena, pages), "xproc-udmabuf");
        RoundTrip(buffer, arena, pages);
    }

    [Fact]
    public void Sealed_memfd_is_shared_with_a_child_process()
    {
        using var memfd = new MemfdProvider();
        ExportedBuffer buffer = memfd.Allocate(16 * Page, "xproc-memfd");
        RoundTrip(buffer, arena: null, pages: null);
    }

    private static void RoundTrip(ExportedBuffer buffer, PageArena? arena, int[]? pages)
    {
        // Our own fd is closed during the round trip; every other fd must be as it was.
        int ownFd = buffer.Fd.Fd;
        var before = ProcFds.Snapshot();
        before.Remove(ownFd);
        using SafeMapping map = buffer.Map();
        Span<byte> bytes = map.AsSpan();
        buffer.BeginCpuAccess(DmaDirection.ToDevice);
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = Arenas.Pattern(i, 10);
        }

        buffer.EndCpuAccess(DmaDirection.ToDevice);
        ExportKind kind = buffer.Kind;
        long size = buffer.Size;

        (int exit, string answer, string stderr) = PeerProcess.Share(buffer, seedIn: 10, seedOut: 20, afterSend: buffer.Dispose);

        Assert.True(exit == 0 && answer.StartsWith("OK ", StringComparison.Ordinal), $"peer exit {exit}: {answer}\n{stderr}");
        string[] parts = answer.Split(' ');
        Assert.Equal(kind.ToString(), parts[1]);
        Assert.Equal(size.ToString(), parts[2]);
        Assert.Equal(parts[3], parts[4]); // the child's fd table is back where it started

        // Our fd is closed and the child is gone; our mapping still holds the memory and the child's bytes.
        ReadOnlySpan<byte> after = map.AsSpan();
        for (int i = 0; i < after.Length; i++)
        {
            Assert.Equal(Arenas.Pattern(i, 20), after[i]);
        }

        if (arena is not null && pages is not null)
        {
            // A udmabuf aliases the arena pages: the child's bytes are in the arena too.
            for (int k = 0; k < pages.Length; k++)
            {
                Span<byte> page = arena.PageSpan(pages[k]);
                for (int j = 0; j < Page; j++)
                {
                    Assert.Equal(Arenas.Pattern(((long)k * Page) + j, 20), page[j]);
                }
            }
        }

        map.Dispose();
        ProcFds.AssertSame(before, ProcFds.Snapshot());
    }
}
