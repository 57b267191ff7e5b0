using DmaSg.Interop;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Backends;
using static DmaSg.Memory.Tests.Backends.BackendTestSupport;

namespace DmaSg.Memory.Tests.Backends;

/// <summary>Tests that count this process's fds run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FdTableCollection
{
    public const string Name = "fd table";
}

/// <summary>1,000 export/send/receive/close cycles leave /proc/self/fd as it was.</summary>
[Collection(FdTableCollection.Name)]
public sealed class FdLeakTests
{
    private const int Cycles = 1000;

    [Fact]
    public void Export_send_receive_close_1000_times_through_the_fallback_chain_leaks_no_fd()
    {
        var log = new List<string>();
        using var chain = new ProviderChain(["dma-heap:dmasg-absent-heap", "udmabuf", "memfd"], log.Add,
            new ProviderOptions { UdmabufDevice = "/dev/dmasg-absent-udmabuf", UdmabufLimits = UdmabufLimits.Default });
        using PageArena arena = NewArena();
        int[] pages = TakePages(arena, 3, 7, 8);
        (FdChannel a, FdChannel b) = FdChannel.CreatePair();
        using (a)
        using (b)
        {
            Cycle(chain, arena, pages, a, b, 0);
            var before = OurFds();
            for (int i = 1; i <= Cycles; i++)
            {
                Cycle(chain, arena, pages, a, b, i);
            }

            Assert.Equal(before, OurFds());
        }

        Assert.Equal(2, log.Count);
        Assert.Equal(arena.TotalPages - 3, arena.FreePageCount);
    }

    [Fact]
    public void Refused_buffers_1000_times_leak_no_fd()
    {
        using var provider = new MemfdProvider();
        (FdChannel a, FdChannel b) = FdChannel.CreatePair();
        using (a)
        using (b)
        {
            var before = OurFds();
            for (int i = 0; i < Cycles; i++)
            {
                using ExportedBuffer buffer = provider.Allocate(Page, "refused");
                a.Send("not a buffer header"u8, [buffer.Fd, buffer.Fd]);
                Assert.Throws<DmaSgException>(() => b.ReceiveBuffer(TimeSpan.FromSeconds(10)));
            }

            Assert.Equal(before, OurFds());
        }
    }

    private static void Cycle(ProviderChain chain, PageArena arena, int[] pages, FdChannel a, FdChannel b, int i)
    {
        using ExportedBuffer buffer = chain.Export(arena, pages, "leak");
        using (SafeMapping map = buffer.Map())
        {
            map.AsSpan()[0] = (byte)i;
        }

        a.SendBuffer(buffer);
        using ExportedBuffer received = b.ReceiveBuffer(TimeSpan.FromSeconds(10));
        using SafeMapping seen = received.Map();
        Assert.Equal((byte)i, seen.AsSpan()[0]);
    }
}
