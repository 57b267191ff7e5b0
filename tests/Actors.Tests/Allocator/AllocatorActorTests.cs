using Akka.Actor;
using DmaSg.Actors.Allocator;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Tests.Support;
using DmaSg.Memory;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests.Allocator;

public class AllocatorActorTests(ITestOutputHelper output) : DmaSgTestKit(output)
{
    [Theory]
    [MemberData(nameof(Devices))]
    public async Task Allocate_takes_whole_pages_and_the_last_put_gives_them_back(string device)
    {
        IActorRef holder = NewHolder();
        AllocatorStats before = await Stats();

        BufferCreated b = await Alloc(holder, (5 * PageSize) + 1, device);

        Assert.Equal(6, b.NumPages);
        Assert.Equal(6L * PageSize, b.Size);
        Assert.False(b.IsUserptr);
        Assert.Equal(device, b.Device);
        AllocatorStats during = await Stats();
        Assert.Equal(before.FreePages - 6, during.FreePages);
        Assert.Equal(1, during.LiveBuffers);
        Assert.Equal(1, during.DeviceMappings);

        RefDropped dropped = await Ask<RefDropped>(b.Buffer, new Put(holder));
        Assert.True(dropped.Freed);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Compacted_allocation_uses_the_largest_blocks_first()
    {
        IActorRef holder = NewHolder();

        // 7 pages = 4 + 2 + 1 consecutive blocks: one sg entry on a fresh arena.
        BufferCreated b = await Alloc(holder, 7L * PageSize);

        Assert.Equal(7, b.NumPages);
        Assert.Equal(1, b.OrigNents);
        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Stats_report_free_pages_per_order()
    {
        AllocatorStats s = await Stats();

        Assert.Equal(s.FreePages, s.FreePagesPerOrder.Sum());
        Assert.Equal(s.MaxOrder + 1, s.FreeBlocksPerOrder.Count);
        for (int order = 0; order <= s.MaxOrder; order++)
        {
            Assert.Equal((long)s.FreeBlocksPerOrder[order] << order, s.FreePagesPerOrder[order]);
        }

        Assert.Equal((16L << 20) / PageSize, s.TotalPages);
        Assert.Equal(3, s.Devices.Count);
    }

    public static TheoryData<long, DmaDirection, string, DmaSgError> BadAllocations => new()
    {
        { 0, DmaDirection.Bidirectional, Coherent, DmaSgError.InvalidArgument },
        { -1, DmaDirection.Bidirectional, Coherent, DmaSgError.InvalidArgument },
        { long.MaxValue, DmaDirection.Bidirectional, Coherent, DmaSgError.InvalidArgument },
        { 4096, DmaDirection.None, Coherent, DmaSgError.InvalidArgument },
        { 4096, (DmaDirection)42, Coherent, DmaSgError.InvalidArgument },
        { 4096, DmaDirection.ToDevice, "no-such-device", DmaSgError.InvalidArgument },
        { 64L << 20, DmaDirection.ToDevice, Coherent, DmaSgError.OutOfMemory },
    };

    [Theory]
    [MemberData(nameof(BadAllocations))]
    public async Task Bad_allocations_get_a_typed_error_and_change_nothing(long size, DmaDirection dir, string device, DmaSgError error)
    {
        AllocatorStats before = await Stats();

        await AskFails(Allocator, new Allocate(size, dir, device, NewHolder()), error);

        AllocatorStats after = await Stats();
        Assert.Equal(before.FreeBlocksPerOrder, after.FreeBlocksPerOrder);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_holder_that_no_one_can_watch_is_refused()
    {
        await AskFails(Allocator, new Allocate(PageSize, DmaDirection.ToDevice, Coherent, ActorRefs.Nobody), DmaSgError.InvalidArgument);
        await AskFails(Allocator, new Allocate(PageSize, DmaDirection.ToDevice, Coherent, null!), DmaSgError.InvalidArgument);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_failing_arena_answers_out_of_memory_and_counts_it()
    {
        await Ask<Done>(Allocator, new SetFaultInjector(new AllocFaultInjector { FailOrderAtLeast = 0 }));
        AllocatorStats before = await Stats();

        await AskFails(Allocator, new Allocate(7L * PageSize, DmaDirection.ToDevice, Coherent, NewHolder()), DmaSgError.OutOfMemory);

        AllocatorStats after = await Stats();
        Assert.Equal(before.FreeBlocksPerOrder, after.FreeBlocksPerOrder);
        Assert.Equal(1, after.AllocationFailures);
        await Ask<Done>(Allocator, new SetFaultInjector(null));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_failure_after_some_blocks_frees_them_all()
    {
        // 7 pages = blocks of order 2, 1, 0; the third block allocation (order 0) fails, and order 0 has no fallback.
        await Ask<Done>(Allocator, new SetFaultInjector(new AllocFaultInjector { FailNth = 3 }));
        AllocatorStats before = await Stats();

        await AskFails(Allocator, new Allocate(7L * PageSize, DmaDirection.ToDevice, Coherent, NewHolder()), DmaSgError.OutOfMemory);

        AllocatorStats after = await Stats();
        Assert.Equal(before.FreeBlocksPerOrder, after.FreeBlocksPerOrder);
        await Ask<Done>(Allocator, new SetFaultInjector(null));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Out_of_memory_leaves_the_arena_as_it_was()
    {
        IActorRef holder = NewHolder();
        AllocatorStats empty = await Stats();
        BufferCreated big = await Alloc(holder, (empty.TotalPages - 3) * PageSize);
        AllocatorStats before = await Stats();

        await AskFails(Allocator, new Allocate(4L * PageSize, DmaDirection.ToDevice, Coherent, holder), DmaSgError.OutOfMemory);

        Assert.Equal(before.FreeBlocksPerOrder, (await Stats()).FreeBlocksPerOrder);
        await Ask<RefDropped>(big.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Userptr_buffers_are_built_over_caller_memory_without_arena_pages()
    {
        IActorRef holder = NewHolder();
        var memory = new byte[3 * PageSize + 100];
        AllocatorStats before = await Stats();

        BufferCreated b = await Ask<BufferCreated>(Allocator,
            new GetUserptr(new UserMemory.Managed(memory.AsMemory(10, 2 * PageSize)), DmaDirection.FromDevice, Coherent, holder));

        Assert.True(b.IsUserptr);
        Assert.Equal(2L * PageSize, b.Size);
        Assert.Equal(before.FreePages, (await Stats()).FreePages);
        UserptrReleased released = await Ask<UserptrReleased>(b.Buffer, new PutUserptr(holder));
        Assert.Equal(0, released.RefCount);

        // FromDevice: the device may have written every page, so all are dirty.
        Assert.Equal(b.NumPages, released.DirtyPages.Count);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Read_only_userptr_works_for_to_device_and_faults_for_from_device()
    {
        IActorRef holder = NewHolder();
        ReadOnlyMemory<byte> ro = new byte[PageSize];

        BufferCreated b = await Ask<BufferCreated>(Allocator, new GetUserptr(new UserMemory.ReadOnly(ro), DmaDirection.ToDevice, Iommu, holder));
        UserptrReleased released = await Ask<UserptrReleased>(b.Buffer, new PutUserptr(holder));
        Assert.Empty(released.DirtyPages);

        await AskFails(Allocator, new GetUserptr(new UserMemory.ReadOnly(ro), DmaDirection.FromDevice, Iommu, holder), DmaSgError.Fault);
        await AskFails(Allocator, new GetUserptr(new UserMemory.Native(0, PageSize), DmaDirection.ToDevice, Iommu, holder), DmaSgError.Fault);
        await AskFails(Allocator, new GetUserptr(new UserMemory.Managed(Memory<byte>.Empty), DmaDirection.ToDevice, Iommu, holder),
            DmaSgError.InvalidArgument);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_removed_device_answers_device_gone_for_new_buffers()
    {
        IActorRef holder = NewHolder();
        BufferCreated b = await Alloc(holder, PageSize, Iommu);

        DeviceRemovalReport report = (await Ask<DeviceRemoved>(Allocator, new RemoveDevice(Iommu))).Report;
        Assert.Equal(1, report.LiveRefs);

        await AskFails(Allocator, new Allocate(PageSize, DmaDirection.ToDevice, Iommu, holder), DmaSgError.DeviceGone);

        // The live buffer can still be freed: existing mappings unmap after removal.
        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AwaitAssertAsync(async () => Assert.Equal((await Stats()).TotalPages, (await Stats()).FreePages));
        Checkers[Iommu].Clear();
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Registering_a_device_twice_is_refused()
    {
        await Ask<DeviceRegistered>(Allocator, new RegisterDevice(new CoherentDevice("extra")));
        await AskFails(Allocator, new RegisterDevice(new CoherentDevice("extra")), DmaSgError.InvalidArgument);
        Assert.Contains((await Stats()).Devices, d => d.Name == "extra" && d.Model == "coherent");
    }

    [Fact]
    public async Task Requests_the_allocator_does_not_know_get_invalid_argument()
    {
        await AskFails(Allocator, Pin.Instance, DmaSgError.InvalidArgument);
    }

    [Fact]
    public async Task A_stopped_buffer_gives_back_its_pages()
    {
        IActorRef holder = NewHolder();
        BufferCreated b = await Alloc(holder, 9L * PageSize, Bounce);
        await Ask<Mmapped>(b.Buffer, new Mmap(PageSize, holder));

        // A crash: the supervisor stops the buffer; its PostStop unmaps and sends the pages home.
        b.Buffer.Tell(Akka.Actor.Kill.Instance);

        await AssertNothingLeaked();
        await AskFails(b.Buffer, GetNumUsers.Instance, DmaSgError.UseAfterRelease);
    }

    [Fact]
    public async Task Pages_of_a_buffer_that_stops_without_returning_them_are_reclaimed()
    {
        IActorRef holder = NewHolder();
        BufferCreated b = await Alloc(holder, 6L * PageSize, Iommu);
        await Ask<Done>(b.Buffer, new Actors.Buffers.LosePages());

        await Ask<RefDropped>(b.Buffer, new Put(holder));

        await AwaitAssertAsync(async () =>
        {
            AllocatorStats s = await Stats();
            Assert.Equal(6, s.PagesReclaimed);
            Assert.Equal(s.TotalPages, s.FreePages);
            Assert.Equal(0, s.LiveBuffers);
            Assert.Equal(0, s.DeviceMappings);
        });
    }

    [Fact]
    public void Bad_settings_are_refused_when_the_props_are_made()
    {
        var e = Assert.Throws<DmaSgException>(() => AllocatorActor.Props(new DmaSgSettings { Backend = "ion" }));
        Assert.Equal(DmaSgError.InvalidArgument, e.Error);
        Assert.Throws<DmaSgException>(() => AllocatorActor.Props(new DmaSgSettings { Backend = "dma-heap", DmaHeapFallback = "ion" }));
        Assert.Throws<DmaSgException>(() => AllocatorActor.Props(new DmaSgSettings { ExportProviders = ["ion"] }));
        Assert.Throws<DmaSgException>(() => AllocatorActor.Props(new DmaSgSettings { ArenaSize = 1 }));
        Assert.Throws<DmaSgException>(() => AllocatorActor.Props(new DmaSgSettings { MaxOrder = 21 }));
        Assert.Throws<DmaSgException>(() => AllocatorActor.Props(new DmaSgSettings
        {
            DeviceSpecs = [new DeviceSpec("a", DeviceModel.Coherent), new DeviceSpec("a", DeviceModel.Iommu)],
        }));
    }
}
