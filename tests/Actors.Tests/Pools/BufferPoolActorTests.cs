using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Actors.Tests.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests.Pools;

/// <summary>The pool actor through its protocol: GstBufferPool's min/max, recycling, waiting, deactivation and dead borrowers.</summary>
public class BufferPoolActorTests(ITestOutputHelper output) : PoolTestKit(output)
{
    [Theory]
    [MemberData(nameof(Devices))]
    public async Task Creation_preallocates_min_buffers_and_answers_once_they_exist(string device)
    {
        IActorRef pool = await CreatePool(Config(3L * PageSize, min: 2, max: 4, device: device));

        PoolInfo info = await Info(pool);
        Assert.Equal((2, 0, 0, 2), (info.Free, info.Outstanding, info.Allocating, info.Total));
        Assert.True(info.IsActive);
        AllocatorStats s = await Stats();
        Assert.Equal(6, s.AllocatedPages);
        Assert.Equal(2, s.LiveBuffers);
        Assert.Equal(1, s.LivePools);

        DmaSgInspection all = await InspectAll();
        Assert.Equal(pool, Assert.Single(all.Pools).Subject);
        Assert.All(all.Buffers, b => Assert.Equal(pool, Assert.Single(b.Holders).Holder));

        await Deactivate(pool);
        await AwaitStopped(pool);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_released_buffer_is_lent_again_as_it_was_without_a_second_zeroing()
    {
        IActorRef pool = await CreatePool(Config(2L * PageSize, max: 1));
        IActorRef holder = NewHolder();

        BufferAcquired first = await Acquire(pool, holder);
        Assert.False(first.Recycled);
        byte[] frame = Patterns.Bytes(PageSize + 17, seed: 3);
        await Ask<BytesWritten>(first.Buffer.Buffer, new WriteBytes(100, frame));
        await Release(pool, first, holder);

        BufferAcquired second = await Acquire(pool, holder);
        Assert.True(second.Recycled);
        Assert.Equal(first.Buffer.Buffer, second.Buffer.Buffer);
        Assert.Equal(frame, (await Ask<BytesRead>(second.Buffer.Buffer, new ReadBytes(100, frame.Length))).Data);
        Assert.Equal(1, (await Info(pool)).Recycles);
        Assert.Equal(1, (await Stats()).Allocations);

        await Release(pool, second, holder);
        await Deactivate(pool);
        await AssertNothingLeaked();
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public async Task Zero_on_recycle_clears_a_returned_buffer_before_it_is_lent_again(string device)
    {
        IActorRef pool = await CreatePool(Config(3L * PageSize, max: 1, zero: true, device: device));
        IActorRef holder = NewHolder();

        BufferAcquired first = await Acquire(pool, holder);
        await Ask<BytesWritten>(first.Buffer.Buffer, new WriteBytes(0, Patterns.Bytes(3 * PageSize, seed: 9)));
        await Release(pool, first, holder);

        BufferAcquired second = await Acquire(pool, holder);
        Assert.True(second.Recycled);
        Assert.All((await Ask<BytesRead>(second.Buffer.Buffer, new ReadBytes(0, 3 * PageSize))).Data, b => Assert.Equal(0, b));

        await Release(pool, second, holder);
        await Deactivate(pool);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task At_max_a_fail_pool_answers_WouldBlock_and_changes_nothing()
    {
        IActorRef pool = await CreatePool(Config(PageSize, max: 2));
        IActorRef holder = NewHolder();
        BufferAcquired a = await Acquire(pool, holder);
        BufferAcquired b = await Acquire(pool, holder);
        Assert.NotEqual(a.Buffer.Buffer, b.Buffer.Buffer);
        long free = (await Stats()).FreePages;

        Assert.Equal(DmaSgError.WouldBlock, await AcquireFails(pool, holder));

        PoolInfo info = await Info(pool);
        Assert.Equal((0, 2, 0), (info.Free, info.Outstanding, info.Waiters));
        Assert.Equal(free, (await Stats()).FreePages);
        Assert.Equal(2, (await Stats()).LiveBuffers);

        await Release(pool, a, holder);
        await Release(pool, b, holder);
        await Deactivate(pool);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_waiting_acquire_gets_the_next_released_buffer_in_FIFO_order()
    {
        IActorRef pool = await CreatePool(Config(PageSize, max: 1, whenEmpty: PoolEmptyPolicy.Wait));
        IActorRef a = NewHolder();
        IActorRef b = NewHolder();
        IActorRef c = NewHolder();
        BufferAcquired lease = await Acquire(pool, a);

        Task<BufferAcquired> second = Acquire(pool, b);
        await AwaitAssertAsync(async () => Assert.Equal(1, (await Info(pool)).Waiters));
        Task<BufferAcquired> third = Acquire(pool, c);
        await AwaitAssertAsync(async () => Assert.Equal(2, (await Info(pool)).Waiters));
        Assert.False(second.IsCompleted);

        await Release(pool, lease, a);
        BufferAcquired forB = await second;
        Assert.Equal(lease.Buffer.Buffer, forB.Buffer.Buffer);
        Assert.False(third.IsCompleted);

        await Release(pool, forB, b);
        BufferAcquired forC = await third;
        Assert.Equal(lease.Buffer.Buffer, forC.Buffer.Buffer);

        await Release(pool, forC, c);
        Assert.Equal(1, (await Stats()).LiveBuffers);
        await Deactivate(pool);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_wait_that_outlasts_the_timeout_answers_WouldBlock_and_leaves_the_pool_as_it_was()
    {
        IActorRef pool = await CreatePool(Config(PageSize, max: 1, whenEmpty: PoolEmptyPolicy.Wait) with { AcquireTimeout = TimeSpan.FromMilliseconds(150) });
        IActorRef holder = NewHolder();
        BufferAcquired lease = await Acquire(pool, holder);

        Assert.Equal(DmaSgError.WouldBlock, await AcquireFails(pool, NewHolder()));

        PoolInfo info = await Info(pool);
        Assert.Equal((0, 1, 1), (info.Waiters, info.Outstanding, info.Timeouts));

        // The release after the timeout goes to the free list, not to the waiter that gave up.
        await Release(pool, lease, holder);
        await AwaitAssertAsync(async () => Assert.Equal(1, (await Info(pool)).Free));
        await Deactivate(pool);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task The_queue_of_waiters_is_bounded()
    {
        IActorRef pool = await CreatePool(Config(PageSize, max: 1, whenEmpty: PoolEmptyPolicy.Wait) with { MaxWaiters = 1 });
        IActorRef holder = NewHolder();
        BufferAcquired lease = await Acquire(pool, holder);
        Task<BufferAcquired> waiting = Acquire(pool, holder);
        await AwaitAssertAsync(async () => Assert.Equal(1, (await Info(pool)).Waiters));

        Assert.Equal(DmaSgError.WouldBlock, await AcquireFails(pool, holder));

        await Release(pool, lease, holder);
        await Release(pool, await waiting, holder);
        await Deactivate(pool);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Deactivation_frees_the_free_buffers_at_once_and_each_lent_one_when_it_comes_back()
    {
        IActorRef pool = await CreatePool(Config(2L * PageSize, min: 3, max: 3));
        IActorRef holder = NewHolder();
        BufferAcquired a = await Acquire(pool, holder);
        BufferAcquired b = await Acquire(pool, holder);
        Assert.Equal(6, (await Stats()).AllocatedPages);

        await Deactivate(pool);
        await Deactivate(pool);
        await AwaitAllocatedPages(4);
        Assert.Equal(DmaSgError.UseAfterRelease, await AcquireFails(pool, holder));
        PoolInfo info = await Info(pool);
        Assert.False(info.IsActive);
        Assert.Equal(2, info.Outstanding);

        await Release(pool, a, holder);
        await AwaitAllocatedPages(2);
        Assert.Equal(1, (await Stats()).LivePools);

        await Release(pool, b, holder);
        await AwaitStopped(pool);
        await AssertNothingLeaked();
        Assert.Equal(0, (await Stats()).LivePools);
    }

    [Fact]
    public async Task Deactivation_answers_every_waiter_UseAfterRelease()
    {
        IActorRef pool = await CreatePool(Config(PageSize, max: 1, whenEmpty: PoolEmptyPolicy.Wait));
        IActorRef holder = NewHolder();
        BufferAcquired lease = await Acquire(pool, holder);
        Task<IDmaSgReply> waiting = DmaSgAsk.Request(Sys, pool, new AcquireBuffer(NewHolder()), Timeout);
        await AwaitAssertAsync(async () => Assert.Equal(1, (await Info(pool)).Waiters));

        await Deactivate(pool);

        Assert.Equal(DmaSgError.UseAfterRelease, Assert.IsType<DmaSgFailure>(await waiting).Error);
        await Release(pool, lease, holder);
        await AwaitStopped(pool);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_borrower_that_dies_gives_its_buffers_back()
    {
        IActorRef pool = await CreatePool(Config(PageSize, max: 3));
        IActorRef dying = NewHolder();
        IActorRef living = NewHolder();
        await Acquire(pool, dying);
        await Acquire(pool, dying);
        BufferAcquired kept = await Acquire(pool, living);

        await KillHolder(dying);

        await AwaitAssertAsync(async () =>
        {
            PoolInfo info = await Info(pool);
            Assert.Equal((2, 1), (info.Free, info.Outstanding));
            Assert.Equal(living, Assert.Single(info.Leases).Holder);
        });
        Assert.Equal(3, (await Stats()).LiveBuffers);

        await Release(pool, kept, living);
        await Deactivate(pool);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_buffer_lent_to_a_holder_that_is_already_dead_comes_back_and_a_late_release_is_refused()
    {
        IActorRef pool = await CreatePool(Config(PageSize, min: 1, max: 1));
        IActorRef dead = NewHolder();
        await KillHolder(dead);

        BufferAcquired lease = await Acquire(pool, dead);

        // DeathWatch of an actor that is already dead still delivers Terminated: the lease ends once.
        await AwaitAssertAsync(async () => Assert.Equal(1, (await Info(pool)).Free));
        await AskFails(pool, new ReleaseBuffer(lease.Buffer.Buffer, dead), DmaSgError.InvalidArgument);
        Assert.Equal(1, (await Info(pool)).Free);

        await Deactivate(pool);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task An_acquire_for_a_dead_holder_that_has_to_wait_ends_with_the_buffer_free()
    {
        IActorRef pool = await CreatePool(Config(PageSize, max: 1));
        IActorRef dead = NewHolder();
        await KillHolder(dead);

        // No free buffer: the acquire waits for an allocation. The holder's Terminated usually ends the wait first
        // (UseAfterRelease); if the buffer wins, it is lent and comes straight back.
        IDmaSgReply reply = await DmaSgAsk.Request(Sys, pool, new AcquireBuffer(dead), Timeout);
        Assert.True(reply is BufferAcquired or DmaSgFailure { Error: DmaSgError.UseAfterRelease }, reply.ToString());

        await AwaitAssertAsync(async () => Assert.Equal((1, 0, 0), ((await Info(pool)).Free, (await Info(pool)).Waiters, (await Info(pool)).Outstanding)));
        await Deactivate(pool);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_waiter_whose_holder_dies_leaves_the_queue()
    {
        IActorRef pool = await CreatePool(Config(PageSize, max: 1, whenEmpty: PoolEmptyPolicy.Wait));
        IActorRef holder = NewHolder();
        IActorRef dying = NewHolder();
        BufferAcquired lease = await Acquire(pool, holder);
        Task<IDmaSgReply> waiting = DmaSgAsk.Request(Sys, pool, new AcquireBuffer(dying), Timeout);
        await AwaitAssertAsync(async () => Assert.Equal(1, (await Info(pool)).Waiters));

        await KillHolder(dying);

        Assert.Equal(DmaSgError.UseAfterRelease, Assert.IsType<DmaSgFailure>(await waiting).Error);
        await Release(pool, lease, holder);
        await AwaitAssertAsync(async () => Assert.Equal((1, 0), ((await Info(pool)).Free, (await Info(pool)).Waiters)));
        await Deactivate(pool);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_release_by_the_wrong_holder_or_twice_is_InvalidArgument_and_changes_nothing()
    {
        IActorRef pool = await CreatePool(Config(PageSize, max: 2));
        IActorRef holder = NewHolder();
        BufferAcquired lease = await Acquire(pool, holder);

        await AskFails(pool, new ReleaseBuffer(lease.Buffer.Buffer, NewHolder()), DmaSgError.InvalidArgument);
        await AskFails(pool, new ReleaseBuffer(Allocator, holder), DmaSgError.InvalidArgument);
        await AskFails(pool, new ReleaseBuffer(lease.Buffer.Buffer, ActorRefs.Nobody), DmaSgError.InvalidArgument);
        await AskFails(pool, new AcquireBuffer(ActorRefs.Nobody), DmaSgError.InvalidArgument);
        Assert.Equal(1, (await Info(pool)).Outstanding);

        await Release(pool, lease, holder);
        await AskFails(pool, new ReleaseBuffer(lease.Buffer.Buffer, holder), DmaSgError.InvalidArgument);
        await AwaitAssertAsync(async () => Assert.Equal((1, 0), ((await Info(pool)).Free, (await Info(pool)).Outstanding)));

        await Deactivate(pool);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_buffer_given_back_while_still_exported_is_let_go_not_lent_again()
    {
        IActorRef pool = await CreatePool(Config(PageSize, max: 1));
        IActorRef holder = NewHolder();
        BufferAcquired lease = await Acquire(pool, holder);
        Exported dmabuf = await Ask<Exported>(lease.Buffer.Buffer, new ExportDmaBuf(holder));

        await Release(pool, lease, holder);

        await AwaitAssertAsync(async () =>
        {
            PoolInfo info = await Info(pool);
            Assert.Equal((0, 1), (info.Total, info.Dropped));
        });

        // The pool makes a new one for the next borrower; the old one lives on for its dmabuf.
        BufferAcquired next = await Acquire(pool, holder);
        Assert.NotEqual(lease.Buffer.Buffer, next.Buffer.Buffer);
        Assert.False(next.Recycled);
        Assert.Equal(2, (await Stats()).LiveBuffers);

        await Ask<RefDropped>(dmabuf.DmaBuf, new Put(holder));
        await AwaitAssertAsync(async () => Assert.Equal(1, (await Stats()).LiveBuffers));
        await Release(pool, next, holder);
        await Deactivate(pool);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_lent_buffer_that_stops_is_replaced_and_its_release_answers_UseAfterRelease()
    {
        IActorRef pool = await CreatePool(Config(PageSize, min: 1, max: 2));
        IActorRef holder = NewHolder();
        BufferAcquired lease = await Acquire(pool, holder);
        var probe = CreateTestProbe();
        probe.Watch(lease.Buffer.Buffer);

        Sys.Stop(lease.Buffer.Buffer);
        await probe.ExpectTerminatedAsync(lease.Buffer.Buffer, Timeout);

        // The pool forgets it and makes a new one to keep its minimum.
        await AwaitAssertAsync(async () =>
        {
            PoolInfo info = await Info(pool);
            Assert.Equal((1, 0, 1), (info.Free, info.Outstanding, info.Total));
        });
        await AskFails(pool, new ReleaseBuffer(lease.Buffer.Buffer, holder), DmaSgError.UseAfterRelease);
        await AskFails(pool, new ReleaseBuffer(lease.Buffer.Buffer, holder), DmaSgError.InvalidArgument);

        await Deactivate(pool);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_pool_with_no_max_grows_with_demand()
    {
        IActorRef pool = await CreatePool(Config(PageSize, max: 0));
        IActorRef holder = NewHolder();
        var leases = new List<BufferAcquired>();
        for (int i = 0; i < 20; i++)
        {
            leases.Add(await Acquire(pool, holder));
        }

        Assert.Equal(20, leases.Select(l => l.Buffer.Buffer).Distinct().Count());
        foreach (BufferAcquired lease in leases)
        {
            await Release(pool, lease, holder);
        }

        await AwaitAssertAsync(async () => Assert.Equal(20, (await Info(pool)).Free));
        await Deactivate(pool);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task When_the_owner_dies_the_pool_deactivates_and_goes_once_its_buffers_are_back()
    {
        IActorRef owner = NewHolder();
        IActorRef pool = await CreatePool(Config(PageSize, min: 2, max: 2), owner);
        IActorRef borrower = NewHolder();
        BufferAcquired lease = await Acquire(pool, borrower);

        await KillHolder(owner);

        await AwaitAllocatedPages(1);
        Assert.False((await Info(pool)).IsActive);
        await Release(pool, lease, borrower);
        await AwaitStopped(pool);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_preallocation_that_runs_out_of_memory_answers_the_failure_and_keeps_nothing()
    {
        long arena = (await Stats()).TotalPages * PageSize;

        await AskFails(Allocator, new CreatePool(Config(arena / 3, min: 4, max: 4), NewHolder()), DmaSgError.OutOfMemory);

        await AwaitAssertAsync(async () => Assert.Equal(0, (await Stats()).LivePools));
        await AssertNothingLeaked();
    }

    public static TheoryData<string, PoolConfig> BadConfigs() => new()
    {
        { "size 0", new PoolConfig { Size = 0 } },
        { "negative size", new PoolConfig { Size = -1 } },
        { "min above max", new PoolConfig { Size = 4096, MinBuffers = 3, MaxBuffers = 2 } },
        { "negative min", new PoolConfig { Size = 4096, MinBuffers = -1 } },
        { "direction none", new PoolConfig { Size = 4096, Direction = DmaDirection.None } },
        { "no timeout", new PoolConfig { Size = 4096, AcquireTimeout = TimeSpan.Zero } },
        { "negative waiters", new PoolConfig { Size = 4096, MaxWaiters = -1 } },
        { "unknown policy", new PoolConfig { Size = 4096, WhenEmpty = (PoolEmptyPolicy)7 } },
        { "unknown device", new PoolConfig { Size = 4096, Device = "nonesuch" } },
        { "no device", new PoolConfig { Size = 4096, Device = string.Empty } },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public async Task A_bad_pool_configuration_is_InvalidArgument_and_creates_nothing(string what, PoolConfig config)
    {
        DmaSgFailure f = await AskFails(Allocator, new CreatePool(config, NewHolder()), DmaSgError.InvalidArgument);

        Assert.False(string.IsNullOrEmpty(f.Message), what);
        AllocatorStats s = await Stats();
        Assert.Equal((0, 0), (s.LivePools, s.LiveBuffers));
        await AskFails(Allocator, new CreatePool(Config(PageSize), ActorRefs.Nobody), DmaSgError.InvalidArgument);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_pool_buffer_works_like_any_other_with_a_bounce_device()
    {
        IActorRef pool = await CreatePool(Config(2L * PageSize, max: 1, device: Bounce, direction: DmaDirection.FromDevice));
        IActorRef holder = NewHolder();
        BufferAcquired lease = await Acquire(pool, holder);
        IActorRef buf = lease.Buffer.Buffer;
        byte[] frame = Patterns.Bytes(2 * PageSize, seed: 5);

        await Ask<Done>(buf, Prepare.Instance);
        await Ask<BytesWritten>(buf, new DmaWrite(0, frame));
        await Ask<Done>(buf, Finish.Instance);
        Assert.Equal(frame, (await Ask<BytesRead>(buf, new ReadBytes(0, frame.Length))).Data);

        await Release(pool, lease, holder);
        await Deactivate(pool);
        await AssertNothingLeaked();
    }
}
