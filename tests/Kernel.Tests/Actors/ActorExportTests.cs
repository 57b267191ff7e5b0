using Akka.Actor;
using Akka.Configuration;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Protocol;
using DmaSg.Interop;
using DmaSg.Kernel.Tests.Support;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Dma;

namespace DmaSg.Kernel.Tests.Actors;

/// <summary>
/// ExportFd through the actors (BufferManager, BufferHandle.ExportFdAsync) inside a kernel that has dma-heap
/// and udmabuf: the fds are real dmabufs, a udmabuf is the buffer's own multi-segment pages, the allocator
/// detaches those pages before the arena hands them out again, a heap fd is a copy kept coherent by
/// prepare/finish, and the dma-heap backend's buffers are heap dmabufs exported as themselves. (SCM_RIGHTS of
/// an actor-exported fd runs on the host in tests/Actors.Tests; of udmabuf and heap fds in Backends here.)
/// </summary>
public sealed class ActorExportTests : IAsyncLifetime
{
    private static readonly int Page = Arenas.Page;
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private ActorSystem? _system;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_system is not null)
        {
            await _system.Terminate();
        }

        // Emulated guests are slow; the time per test shows where CI time goes.
        TestContext.Current.SendDiagnosticMessage($"{TestContext.Current.Test?.TestDisplayName}: {_clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task A_multi_segment_buffer_is_exported_as_a_udmabuf_of_its_own_pages()
    {
        Devices.RequireUdmabuf();
        BufferManager dmasg = Start("""["udmabuf", "memfd"]""");
        int size = 6 * Page;
        await using BufferHandle buf = await dmasg.AllocateAsync(size, name: "actor-udmabuf");
        Assert.Equal(6, (await buf.CookieAsync()).OrigNents);
        await buf.WriteAsync(0, Pattern(size, 1));

        await using FdHandle fd = await buf.ExportFdAsync();
        Assert.Equal(ExportKind.Udmabuf, fd.Kind);
        Assert.True(fd.IsDmabuf);
        Assert.True(fd.SharesArenaPages);
        Assert.Equal("udmabuf", fd.Provider);
        Assert.Equal("dmasg:actor-udmabuf", fd.Buffer.KernelName);
        Assert.Equal("dmasg:actor-udmabuf", ProcFds.FdInfo(fd.Fd.Fd)["name"]);

        // No copy either way: the buffer's bytes are the dmabuf's, bracketed by SYNC START/END.
        using SafeMapping map = fd.Buffer.Map();
        await fd.FinishAsync();
        Assert.Equal(Pattern(size, 1), map.AsSpan().ToArray());
        Pattern(size, 2).CopyTo(map.AsSpan());
        await fd.PrepareAsync();
        Assert.Equal(Pattern(size, 2), await buf.ReadAsync(0, size));
        await buf.WriteAsync(Page, Pattern(Page, 3));
        Assert.Equal(Pattern(Page, 3), map.AsSpan().Slice(Page, Page).ToArray());
    }

    [Fact]
    public async Task Pages_a_udmabuf_was_made_of_are_detached_before_the_arena_hands_them_out_again()
    {
        Devices.RequireUdmabuf();
        BufferManager dmasg = Start("""["udmabuf"]""");
        int size = 8 * Page;
        BufferHandle first = await dmasg.AllocateAsync(size, name: "detached");
        await first.WriteAsync(0, Pattern(size, 4));
        long[] firstPages = (await first.CookieAsync()).Entries.Select(e => e.Phys).ToArray();
        FdHandle fd = await first.ExportFdAsync();
        using SafeMapping old = fd.Buffer.Map();

        // Our fd and buffer go; the mapping (like a receiver's) keeps the dmabuf and its pages.
        await fd.DisposeAsync();
        await first.DisposeAsync();
        await Eventually(async () =>
        {
            AllocatorStats s = await dmasg.GetStatsAsync();
            return s.FreePages == s.TotalPages;
        });

        // The arena's next buffer gets the same offsets, zeroed and written anew; the old dmabuf keeps its bytes.
        await using BufferHandle second = await dmasg.AllocateAsync(size, name: "reused");
        long[] secondPages = (await second.CookieAsync()).Entries.Select(e => e.Phys).ToArray();
        Assert.Equal(firstPages, secondPages);
        Assert.Equal(new byte[size], await second.ReadAsync(0, size));
        await second.WriteAsync(0, Pattern(size, 5));
        Assert.Equal(Pattern(size, 4), old.AsSpan().ToArray());
        Assert.Equal(Pattern(size, 5), await second.ReadAsync(0, size));
    }

    [Fact]
    public async Task A_pooled_buffer_whose_pages_went_out_as_a_udmabuf_is_never_lent_again()
    {
        Devices.RequireUdmabuf();
        BufferManager dmasg = Start("""["udmabuf"]""");
        await using PoolHandle pool = await dmasg.CreatePoolAsync(2 * Page, DmaDirection.Bidirectional, minBuffers: 1, maxBuffers: 1);
        long first;
        await using (PooledBufferHandle lease = await pool.AcquireAsync())
        {
            first = lease.Id;
            await using FdHandle fd = await lease.ExportFdAsync();
            Assert.True(fd.IsZeroCopy);
        }

        // Our fd is closed, but a receiver could still hold a copy of it: the pool lets the buffer go.
        await using PooledBufferHandle again = await pool.AcquireAsync();
        Assert.NotEqual(first, again.Id);
        Assert.False(again.Recycled);
        Assert.Equal(1, (await pool.InspectAsync()).Dropped);
    }

    [Fact]
    public async Task A_heap_fd_holds_a_copy_that_prepare_and_finish_keep_coherent()
    {
        Devices.RequireDmaHeap();
        BufferManager dmasg = Start(providers: null);
        int size = 5 * Page;
        await using BufferHandle buf = await dmasg.AllocateAsync(size, name: "actor-heap");
        await buf.WriteAsync(0, Pattern(size, 6));

        // The default order puts dma-heap:system first, as libcamera does.
        await using FdHandle fd = await buf.ExportFdAsync(DmaDirection.Bidirectional);
        Assert.Equal(ExportKind.DmaHeap, fd.Kind);
        Assert.True(fd.IsDmabuf);
        Assert.False(fd.SharesArenaPages);
        Assert.Equal("dma-heap:system", fd.Provider);
        using SafeMapping map = fd.Buffer.Map();
        Assert.Equal(Pattern(size, 6), map.AsSpan().ToArray());

        await buf.WriteAsync(0, Pattern(size, 7));
        Assert.Equal(Pattern(size, 6), map.AsSpan().ToArray());
        await fd.PrepareAsync();
        Assert.Equal(Pattern(size, 7), map.AsSpan().ToArray());

        fd.Buffer.BeginCpuAccess(DmaDirection.ToDevice);
        Pattern(size, 8).CopyTo(map.AsSpan());
        fd.Buffer.EndCpuAccess(DmaDirection.ToDevice);
        await fd.FinishAsync();
        Assert.Equal(Pattern(size, 8), await buf.ReadAsync(0, size));
    }

    [Fact]
    public async Task The_dma_heap_backend_makes_each_buffer_one_heap_dmabuf_and_exports_it_without_a_copy()
    {
        Devices.RequireDmaHeap();
        BufferManager dmasg = Start("""["udmabuf", "memfd"]""", """
            dmasg.backend = dma-heap
            dmasg.max-segment = 0
            dmasg.devices.camera { model = bounce, pool-size = 1 MiB }
            dmasg.devices.encoder { model = iommu }
            """);

        // The arena memfd and /dev/dma_heap/system open once, on first use, and stay open.
        await (await dmasg.AllocateAsync(Page)).DisposeAsync();
        var before = ProcFds.Snapshot();
        int size = 5 * Page;
        byte[] frame = Pattern(size, 30);
        await using (BufferHandle buf = await dmasg.AllocateAsync(size, DmaDirection.FromDevice, "camera", "heap-frame"))
        {
            // No arena page is taken: the kernel's heap holds the buffer.
            AllocatorStats stats = await dmasg.GetStatsAsync();
            Assert.Equal(stats.TotalPages, stats.FreePages);
            Assert.Equal(1, stats.LiveBuffers);
            Assert.Equal(new byte[size], await buf.ReadAsync(0, size));

            // A camera behind swiotlb writes; prepare/finish (with SYNC END/START) make it visible to the CPU.
            await buf.PrepareAsync();
            await buf.DmaWriteAsync(0, frame);
            await buf.FinishAsync();
            Assert.Equal(frame, await buf.ReadAsync(0, size));
            await using (MmapHandle m = await buf.MmapAsync())
            {
                Assert.Equal(frame, m.AsSpan().ToArray());
            }

            // Its fd export is its own dmabuf, duplicated: zero-copy both ways.
            await using (FdHandle fd = await buf.ExportFdAsync(DmaDirection.Bidirectional))
            {
                Assert.Equal(ExportKind.DmaHeap, fd.Kind);
                Assert.True(fd.IsZeroCopy);
                Assert.Equal("dma-heap:system", fd.Provider);
                Assert.Equal("dmasg:heap-frame", ProcFds.FdInfo(fd.Fd.Fd)["name"]);
                using SafeMapping map = fd.Buffer.Map();
                Assert.Equal(frame, map.AsSpan().ToArray());
                Pattern(size, 31).CopyTo(map.AsSpan());
                await fd.PrepareAsync();
                Assert.Equal(Pattern(size, 31), await buf.ReadAsync(0, size));
            }

            // An importer (an encoder) reads it through its own mapping.
            await using DmaBufHandle dmabuf = await buf.ExportAsync();
            await using ImportHandle encoder = await dmabuf.ImportAsync(DmaDirection.ToDevice, "encoder");
            await encoder.PinAsync();
            Assert.Equal(Pattern(size, 31), await encoder.DmaReadAsync(0, size));
            await encoder.UnpinAsync();
        }

        await Eventually(async () => (await dmasg.GetStatsAsync()).Actors.Total == 0);
        ProcFds.AssertSame(before, ProcFds.Snapshot());
    }

    [Fact]
    public async Task Export_and_close_cycles_through_the_actors_leak_no_fd_and_no_page()
    {
        Devices.RequireAll();
        foreach (string providers in new[] { """["udmabuf"]""", """["dma-heap:system"]""" })
        {
            if (_system is not null)
            {
                await _system.Terminate();
            }

            BufferManager dmasg = Start(providers);
            await using BufferHandle buf = await dmasg.AllocateAsync(3 * Page, name: "cycles");
            await (await buf.ExportFdAsync()).DisposeAsync();
            var before = ProcFds.Snapshot();
            long free = (await dmasg.GetStatsAsync()).FreePages;
            // Under emulation a cycle costs about 0.3 s; tests/Actors.Tests and the Memory-level guest tests
            // do 1,000, so here a few per kind suffice.
            for (int i = 0; i < 10; i++)
            {
                FdHandle fd = await buf.ExportFdAsync();
                Assert.True(fd.IsDmabuf);
                await fd.PrepareAsync();
                await fd.DisposeAsync();
            }

            ProcFds.AssertSame(before, ProcFds.Snapshot());
            Assert.Equal(free, (await dmasg.GetStatsAsync()).FreePages);
            Assert.Equal(1, await buf.NumUsersAsync());
        }
    }

    private BufferManager Start(string? providers, string extra = "")
    {
        string export = providers is null ? string.Empty : $"dmasg.export.providers = {providers}";
        _system = ActorSystem.Create("kernel-tests", ConfigurationFactory.ParseString($$"""
            akka.loglevel = WARNING
            akka.stdout-loglevel = WARNING
            akka.log-dead-letters = off
            dmasg {
              arena-size = 4 MiB
              max-order = 4
              max-segment = {{Page}}
            }
            {{export}}
            {{extra}}
            """));
        return BufferManager.Get(_system);
    }

    private static byte[] Pattern(int size, int seed) => Enumerable.Range(0, size).Select(i => Arenas.Pattern(i, seed)).ToArray();

    // Polls by asking the allocator (each check awaits a reply; nothing sleeps) until it holds or 10 s pass.
    private static async Task Eventually(Func<Task<bool>> condition)
    {
        DateTime until = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, "the condition did not hold within 10 s");
            await Task.Yield();
        }
    }
}
