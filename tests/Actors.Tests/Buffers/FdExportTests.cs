using System.Diagnostics;
using Akka.Actor;
using DmaSg.Actors.Allocator;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Actors.Tests.Support;
using DmaSg.Interop;
using DmaSg.Interop.Linux;
using DmaSg.Memory;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests.Buffers;

/// <summary>
/// ExportFd through the actors on a kernel without dma-heap and udmabuf (this machine): the providers fall
/// back to a sealed memfd holding a copy. The dma-heap provider is pointed at a heap that exists nowhere, so
/// the results are the same on any machine; tests/Kernel.Tests proves the real dmabuf kinds.
/// </summary>
[Collection(FdTableCollection.Name)]
public sealed class FdExportTests(ITestOutputHelper output) : FacadeTestKit(output, ExportHocon)
{
    public const string AbsentHeap = "dma-heap:dmasg-absent-heap";

    public const string ExportHocon = """
        akka.loglevel = WARNING
        akka.log-dead-letters = off
        dmasg {
          arena-size = 8 MiB
          max-order = 5
          export.providers = ["dma-heap:dmasg-absent-heap", "memfd"]
        }
        """;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Without_kernel_devices_the_fd_is_a_sealed_memfd_holding_a_copy_made_at_export()
    {
        byte[] first = Patterns.Bytes(3 * PageSize, 1);
        await using BufferHandle buf = await Dmasg.AllocateAsync(first.Length, name: "copy-at-export");
        await buf.WriteAsync(0, first);
        await using (FdHandle fd = await buf.ExportFdAsync())
        {
            Assert.Equal(ExportKind.Memfd, fd.Kind);
            Assert.False(fd.IsDmabuf);
            Assert.False(fd.SharesArenaPages);
            Assert.Equal("memfd", fd.Provider);
            Assert.Equal(buf.Size, fd.Size);
            Assert.Equal(DmaDirection.Bidirectional, fd.Direction);
            Assert.Equal(MemfdProvider.ExportSeals, Syscall.GetSeals(fd.Fd));
            Assert.Equal(1, ProcFds.MemfdsNamed("copy-at-export"));
            Assert.Equal(2, await buf.NumUsersAsync());

            using SafeMapping map = fd.Buffer.Map();
            Assert.Equal(first, map.AsSpan().ToArray());

            // Later writes on either side stay apart until prepare (buffer -> fd) or finish (fd -> buffer).
            byte[] second = Patterns.Bytes(first.Length, 2);
            await buf.WriteAsync(0, second);
            Assert.Equal(first, map.AsSpan().ToArray());
            await fd.PrepareAsync();
            Assert.Equal(second, map.AsSpan().ToArray());

            byte[] third = Patterns.Bytes(first.Length, 3);
            third.CopyTo(map.AsSpan());
            Assert.Equal(second, await buf.ReadAsync(0, first.Length));
            await fd.FinishAsync();
            Assert.Equal(third, await buf.ReadAsync(0, first.Length));
        }

        Assert.Equal(1, await buf.NumUsersAsync());
        Assert.Equal(0, ProcFds.MemfdsNamed("copy-at-export"));
        await buf.DisposeAsync();
        await AssertNothingLeaked();
    }

    [Theory]
    [InlineData(DmaDirection.ToDevice, true, false)]
    [InlineData(DmaDirection.FromDevice, false, true)]
    [InlineData(DmaDirection.Bidirectional, true, true)]
    public async Task Prepare_and_finish_copy_in_the_directions_a_bounce_buffer_would(DmaDirection direction, bool prepareCopies, bool finishCopies)
    {
        int size = 2 * PageSize;
        byte[] atExport = Patterns.Bytes(size, 10);
        byte[] fromBuffer = Patterns.Bytes(size, 11);
        byte[] fromFd = Patterns.Bytes(size, 12);
        await using BufferHandle buf = await Dmasg.AllocateAsync(size, DmaDirection.FromDevice);
        await buf.WriteAsync(0, atExport);
        await using FdHandle fd = await buf.ExportFdAsync(direction);
        Assert.Equal(direction, fd.Direction);
        using SafeMapping map = fd.Buffer.Map();

        await buf.WriteAsync(0, fromBuffer);
        await fd.PrepareAsync();
        Assert.Equal(prepareCopies ? fromBuffer : atExport, map.AsSpan().ToArray());

        fromFd.CopyTo(map.AsSpan());
        await fd.FinishAsync();
        Assert.Equal(finishCopies ? fromFd : fromBuffer, await buf.ReadAsync(0, size));
    }

    [Fact]
    public async Task Each_unusable_provider_is_logged_once_with_its_reason()
    {
        await using BufferHandle buf = await Dmasg.AllocateAsync(PageSize);
        await EventFilter.Warning(contains: $"dmabuf provider {AbsentHeap} is unusable: missing device /dev/dma_heap/dmasg-absent-heap")
            .ExpectOneAsync(async () =>
            {
                for (int i = 0; i < 3; i++)
                {
                    await using FdHandle fd = await buf.ExportFdAsync();
                    Assert.Equal(ExportKind.Memfd, fd.Kind);
                }
            });
    }

    [Fact]
    public async Task Disposing_the_fd_handle_closes_the_fd_and_drops_its_ref_once()
    {
        await using BufferHandle buf = await Dmasg.AllocateAsync(PageSize, name: "dispose-once");
        FdHandle fd = await buf.ExportFdAsync();
        FdHandle second = await buf.ExportFdAsync();
        Assert.Equal(3, await buf.NumUsersAsync());
        Assert.Equal(2, ProcFds.MemfdsNamed("dispose-once"));

        await fd.DisposeAsync();
        await fd.DisposeAsync();
        Assert.True(fd.IsDisposed);
        Assert.Equal(2, await buf.NumUsersAsync());
        Assert.Equal(1, ProcFds.MemfdsNamed("dispose-once"));
        Assert.Throws<ObjectDisposedException>(() => fd.Buffer.Fd);
        var e = await Assert.ThrowsAsync<DmaSgException>(fd.PrepareAsync);
        Assert.Equal(DmaSgError.UseAfterRelease, e.Error);
        Assert.Equal(DmaSgError.UseAfterRelease, Assert.Throws<DmaSgException>(() => fd.Fd).Error);

        await second.DisposeAsync();
        Assert.Equal(1, await buf.NumUsersAsync());
        Assert.Equal(0, ProcFds.MemfdsNamed("dispose-once"));
        await buf.DisposeAsync();
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task The_fd_keeps_its_buffer_alive_after_every_other_handle_is_gone()
    {
        byte[] data = Patterns.Bytes(4 * PageSize, 5);
        BufferHandle buf = await Dmasg.AllocateAsync(data.Length, name: "outlives");
        await buf.WriteAsync(0, data);
        DmaBufHandle dmabuf = await buf.ExportAsync();

        // dma_buf_fd through the dmabuf: relayed to the buffer, whose ref it holds.
        FdHandle fd = await dmabuf.ExportFdAsync();
        Assert.Equal(buf.Buffer, fd.Target);
        await dmabuf.DisposeAsync();
        await buf.DisposeAsync();

        AllocatorStats live = await Dmasg.GetStatsAsync();
        Assert.Equal(1, live.LiveBuffers);
        Assert.Equal(4, live.AllocatedPages);
        await fd.FinishAsync();
        using (SafeMapping map = fd.Buffer.Map())
        {
            Assert.Equal(data, map.AsSpan().ToArray());
        }

        await fd.DisposeAsync();
        Assert.Equal(0, ProcFds.MemfdsNamed("outlives"));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_pooled_buffer_whose_copy_fd_was_closed_is_lent_again()
    {
        await using PoolHandle pool = await Dmasg.CreatePoolAsync(PageSize, DmaDirection.Bidirectional, "default", minBuffers: 1, maxBuffers: 1);
        await using (PooledBufferHandle lease = await pool.AcquireAsync())
        {
            // A copy: whoever holds the fd holds its own memory, so the buffer's bytes may be lent again.
            await using FdHandle fd = await lease.ExportFdAsync();
            Assert.False(fd.IsZeroCopy);
        }

        await using PooledBufferHandle again = await pool.AcquireAsync();
        Assert.True(again.Recycled);
    }

    [Fact]
    public async Task A_dead_holder_closes_its_fds_and_drops_their_refs()
    {
        await using BufferHandle buf = await Dmasg.AllocateAsync(2 * PageSize, name: "holder-dies");
        DmaSgClient client = Dmasg.CreateClient();
        BufferHandle theirs = await AddRefThrough(client, buf);
        FdHandle fd1 = await theirs.ExportFdAsync();
        FdHandle fd2 = await theirs.ExportFdAsync(DmaDirection.ToDevice);
        Assert.Equal(4, await buf.NumUsersAsync());
        Assert.Equal(2, ProcFds.MemfdsNamed("holder-dies"));

        // The client's holder stops, as a crashed process would: its fds close and its refs go, ours stays.
        await client.DisposeAsync();
        await AwaitAssertAsync(async () =>
        {
            Assert.Equal(1, await buf.NumUsersAsync());
            Assert.Equal(0, ProcFds.MemfdsNamed("holder-dies"));
        }, Timeout);
        Assert.Throws<ObjectDisposedException>(() => fd1.Buffer.Fd);

        // Disposing the handles afterwards is harmless.
        await fd1.DisposeAsync();
        await fd2.DisposeAsync();
        await theirs.DisposeAsync();
        Assert.Equal(1, await buf.NumUsersAsync());
        await buf.DisposeAsync();
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_holder_that_only_holds_an_fd_frees_the_buffer_when_it_dies()
    {
        IActorRef holder = Sys.ActorOf(Props.Empty);
        BufferCreated created = await DmaSgAsk.Request<BufferCreated>(Sys, Dmasg.Allocator,
            new Allocate(3L * PageSize, DmaDirection.Bidirectional, "default", holder, "only-fd"), Timeout);
        FdExported exported = await DmaSgAsk.Request<FdExported>(Sys, created.Buffer, new ExportFd(holder), Timeout);
        await DmaSgAsk.Request<RefDropped>(Sys, created.Buffer, new Put(holder), Timeout);
        Assert.Equal(1, ProcFds.MemfdsNamed("only-fd"));
        Assert.Equal(3, (await Dmasg.GetStatsAsync()).AllocatedPages);

        Watch(holder);
        Sys.Stop(holder);
        ExpectTerminated(holder);
        await AssertNothingLeaked();
        Assert.Equal(0, ProcFds.MemfdsNamed("only-fd"));
        Assert.Throws<ObjectDisposedException>(() => exported.Fd.Fd);
    }

    [Fact]
    public async Task Bad_requests_get_typed_errors_and_change_nothing()
    {
        IActorRef holder = Sys.ActorOf(Props.Empty);
        BufferCreated created = await DmaSgAsk.Request<BufferCreated>(Sys, Dmasg.Allocator,
            new Allocate(PageSize, DmaDirection.ToDevice, "default", holder, "bad-input"), Timeout);
        IActorRef b = created.Buffer;
        FdExported good = await DmaSgAsk.Request<FdExported>(Sys, b, new ExportFd(holder), Timeout);
        SortedDictionary<int, string> fds = ProcFds.Ours();

        await Fails(b, new ExportFd(ActorRefs.Nobody), DmaSgError.InvalidArgument);
        await Fails(b, new ExportFd(holder, DmaDirection.None), DmaSgError.InvalidArgument);
        await Fails(b, new ExportFd(holder, (DmaDirection)77), DmaSgError.InvalidArgument);
        await Fails(b, new CloseFd(good.ExportId + 1000, holder), DmaSgError.InvalidArgument);
        await Fails(b, new CloseFd(good.ExportId, TestActor), DmaSgError.InvalidArgument);
        await Fails(b, new PrepareFd(good.ExportId + 1000), DmaSgError.InvalidArgument);
        await Fails(b, new FinishFd(-1), DmaSgError.InvalidArgument);

        // USERPTR memory belongs to its caller: it is never exported.
        var user = new byte[2 * PageSize];
        BufferCreated userptr = await DmaSgAsk.Request<BufferCreated>(Sys, Dmasg.Allocator,
            new GetUserptr(new UserMemory.Managed(user), DmaDirection.ToDevice, "default", holder), Timeout);
        await Fails(userptr.Buffer, new ExportFd(holder), DmaSgError.InvalidArgument);
        Assert.Equal(1, (await DmaSgAsk.Request<NumUsers>(Sys, userptr.Buffer, GetNumUsers.Instance, Timeout)).Count);

        Assert.Equal(2, (await DmaSgAsk.Request<NumUsers>(Sys, b, GetNumUsers.Instance, Timeout)).Count);
        Assert.Equal(fds, ProcFds.Ours());
        Assert.Equal(1, (await Dmasg.GetStatsAsync()).LiveBuffers - 1);

        // The export still works, and closing it once more is refused.
        await DmaSgAsk.Request<Done>(Sys, b, new PrepareFd(good.ExportId), Timeout);
        await DmaSgAsk.Request<RefDropped>(Sys, b, new CloseFd(good.ExportId, holder), Timeout);
        await Fails(b, new CloseFd(good.ExportId, holder), DmaSgError.InvalidArgument);
        await Fails(b, new PrepareFd(good.ExportId), DmaSgError.InvalidArgument);
        Sys.Stop(holder);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task When_no_provider_can_serve_the_export_fails_naming_each_reason_and_takes_nothing()
    {
        IActorRef allocator = Sys.ActorOf(AllocatorActor.Props(new DmaSgSettings
        {
            ArenaSize = 1L << 20,
            MaxOrder = 4,
            ArenaName = "dmasg-no-provider",
            ExportProviders = [AbsentHeap, "dma-heap:dmasg-other-absent-heap"],
        }));
        IActorRef holder = Sys.ActorOf(Props.Empty);
        BufferCreated created = await DmaSgAsk.Request<BufferCreated>(Sys, allocator,
            new Allocate(PageSize, DmaDirection.ToDevice, "default", holder), Timeout);
        SortedDictionary<int, string> fds = ProcFds.Ours();

        DmaSgFailure f = await Fails(created.Buffer, new ExportFd(holder), DmaSgError.OutOfMemory);
        Assert.Contains("no dmabuf provider could serve it", f.Message);
        Assert.Contains("/dev/dma_heap/dmasg-absent-heap", f.Message);
        Assert.Contains("/dev/dma_heap/dmasg-other-absent-heap", f.Message);
        Assert.Equal(1, (await DmaSgAsk.Request<NumUsers>(Sys, created.Buffer, GetNumUsers.Instance, Timeout)).Count);
        Assert.Equal(fds, ProcFds.Ours());

        await DmaSgAsk.Request<RefDropped>(Sys, created.Buffer, new Put(holder), Timeout);
        await AwaitAssertAsync(async () =>
        {
            AllocatorStats s = await DmaSgAsk.Request<AllocatorStats>(Sys, allocator, GetStats.Instance, Timeout);
            Assert.Equal(s.TotalPages, s.FreePages);
        }, Timeout);
        await allocator.GracefulStop(Timeout);
    }

    [Fact]
    public async Task A_thousand_export_and_close_cycles_leave_the_fd_table_and_the_arena_as_they_were()
    {
        await using BufferHandle buf = await Dmasg.AllocateAsync(2 * PageSize, name: "cycles");
        await using (FdHandle warm = await buf.ExportFdAsync())
        {
            // The first export opens what stays open (the providers' probes), and logs the unusable heap once.
        }

        SortedDictionary<int, string> fds = ProcFds.Ours();
        long freePages = (await Dmasg.GetStatsAsync()).FreePages;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 1000; i++)
        {
            FdHandle fd = await buf.ExportFdAsync();
            if (i % 100 == 0)
            {
                await fd.PrepareAsync();
            }

            await fd.DisposeAsync();
        }

        Output.WriteLine($"1000 ExportFd/CloseFd cycles through the actors: {clock.ElapsedMilliseconds} ms");
        Assert.Equal(fds, ProcFds.Ours());
        Assert.Equal(freePages, (await Dmasg.GetStatsAsync()).FreePages);
        Assert.Equal(1, await buf.NumUsersAsync());
    }

    private async Task<DmaSgFailure> Fails(IActorRef target, IDmaSgRequest request, DmaSgError error)
    {
        IDmaSgReply reply = await DmaSgAsk.Request(Sys, target, request, Timeout);
        var failure = Assert.IsType<DmaSgFailure>(reply);
        Assert.Equal(error, failure.Error);
        return failure;
    }

    private async Task<BufferHandle> AddRefThrough(DmaSgClient client, BufferHandle buf)
    {
        // A second client's ref on the same buffer: AddRef in its holder's name, then a handle of its own.
        await DmaSgAsk.Request<RefTaken>(Sys, buf.Buffer, new AddRef(client.Holder), Timeout);
        return new BufferHandle(client, buf.Info);
    }
}
