using Akka.Actor;
using DmaSg.Actors.Allocator;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Tests.Pools;
using DmaSg.Actors.Tests.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests.Quotas;

/// <summary>Per-holder page quotas in the allocator: QuotaExceeded changes nothing and touches no other holder.</summary>
public class QuotaTests(ITestOutputHelper output) : PoolTestKit(output)
{
    private Task<HolderQuota> Quota(IActorRef holder, IActorRef? allocator = null) => Ask<HolderQuota>(allocator ?? Allocator, new GetQuota(holder));

    private Task<HolderQuota> SetQuota(IActorRef holder, long? pages) => Ask<HolderQuota>(Allocator, new SetQuota(holder, pages));

    [Fact]
    public async Task Exceeding_a_quota_answers_QuotaExceeded_and_changes_nothing()
    {
        IActorRef holder = NewHolder();
        HolderQuota set = await SetQuota(holder, 5);
        Assert.Equal((0L, 5L, true, 0), (set.UsedPages, set.LimitPages, set.IsOverride, set.Buffers));
        BufferCreated b = await Alloc(holder, 3L * PageSize);
        AllocatorStats before = await Stats();

        DmaSgFailure f = await AskFails(Allocator, new Allocate(3L * PageSize, DmaDirection.ToDevice, Coherent, holder), DmaSgError.QuotaExceeded);

        Assert.Contains("quota of 5", f.Message, StringComparison.Ordinal);
        AllocatorStats after = await Stats();
        Assert.Equal((before.FreePages, before.LiveBuffers, before.Allocations), (after.FreePages, after.LiveBuffers, after.Allocations));
        HolderQuota q = await Quota(holder);
        Assert.Equal((3L, 1, 2L), (q.UsedPages, q.Buffers, q.AvailablePages));

        // Exactly up to the limit is allowed.
        BufferCreated c = await Alloc(holder, 2L * PageSize);
        Assert.Equal(5, (await Quota(holder)).UsedPages);
        await AskFails(Allocator, new Allocate(1, DmaDirection.ToDevice, Coherent, holder), DmaSgError.QuotaExceeded);

        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await Ask<RefDropped>(c.Buffer, new Put(holder));
        Assert.Equal(0, (await Quota(holder)).UsedPages);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Other_holders_are_unaffected_by_one_holder_at_its_quota()
    {
        IActorRef capped = NewHolder();
        IActorRef other = NewHolder();
        await SetQuota(capped, 2);
        BufferCreated mine = await Alloc(capped, 2L * PageSize);
        await AskFails(Allocator, new Allocate(PageSize, DmaDirection.ToDevice, Coherent, capped), DmaSgError.QuotaExceeded);

        BufferCreated theirs = await Alloc(other, 50L * PageSize);

        HolderQuota q = await Quota(other);
        Assert.Equal((50L, 0L, false), (q.UsedPages, q.LimitPages, q.IsOverride));
        Assert.True(q.IsUnlimited);
        Assert.Equal(2, (await Quota(capped)).UsedPages);

        await Ask<RefDropped>(mine.Buffer, new Put(capped));
        await Ask<RefDropped>(theirs.Buffer, new Put(other));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_shared_buffer_stays_charged_to_the_holder_that_allocated_it_until_it_is_freed()
    {
        IActorRef owner = NewHolder();
        IActorRef importer = NewHolder();
        await SetQuota(owner, 4);
        (BufferCreated b, Exported e) = await AllocExported(owner, 4L * PageSize);
        await Ask<RefTaken>(e.DmaBuf, new AddRef(importer));

        // The owner lets go of everything it holds; the importer's dmabuf ref keeps the buffer alive.
        await Ask<RefDropped>(e.DmaBuf, new Put(owner));
        await Ask<RefDropped>(b.Buffer, new Put(owner));
        Assert.Equal(4, (await Quota(owner)).UsedPages);
        Assert.Equal(0, (await Quota(importer)).UsedPages);
        await AskFails(Allocator, new Allocate(PageSize, DmaDirection.ToDevice, Coherent, owner), DmaSgError.QuotaExceeded);

        await Ask<RefDropped>(e.DmaBuf, new Put(importer));
        await AwaitAssertAsync(async () => Assert.Equal(0, (await Quota(owner)).UsedPages));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task When_the_allocating_holder_dies_its_accounting_goes_even_if_others_keep_its_buffer()
    {
        IActorRef owner = NewHolder();
        IActorRef importer = NewHolder();
        await SetQuota(owner, 10);
        (BufferCreated _, Exported e) = await AllocExported(owner, 3L * PageSize);
        await Ask<RefTaken>(e.DmaBuf, new AddRef(importer));
        Assert.Contains((await Stats()).Quotas, q => q.Holder.Equals(owner) && q.UsedPages == 3);

        await KillHolder(owner);

        await AwaitAssertAsync(async () => Assert.DoesNotContain((await Stats()).Quotas, q => q.Holder.Equals(owner)));
        Assert.Equal(1, (await Stats()).LiveBuffers);
        Assert.Equal(0, (await Quota(importer)).UsedPages);

        await Ask<RefDropped>(e.DmaBuf, new Put(importer));
        await AssertNothingLeaked();
        Assert.Empty((await Stats()).Quotas);
    }

    [Fact]
    public async Task A_limit_below_current_use_keeps_the_buffers_and_refuses_new_ones_until_use_drops()
    {
        IActorRef holder = NewHolder();
        BufferCreated a = await Alloc(holder, 3L * PageSize);
        BufferCreated b = await Alloc(holder, 3L * PageSize);

        HolderQuota q = await SetQuota(holder, 4);
        Assert.Equal((6L, 0L), (q.UsedPages, q.AvailablePages));
        await AskFails(Allocator, new Allocate(PageSize, DmaDirection.ToDevice, Coherent, holder), DmaSgError.QuotaExceeded);

        await Ask<RefDropped>(a.Buffer, new Put(holder));
        BufferCreated c = await Alloc(holder, PageSize);
        Assert.Equal(4, (await Quota(holder)).UsedPages);

        // Back to the default (unlimited here).
        q = await SetQuota(holder, null);
        Assert.Equal((0L, false), (q.LimitPages, q.IsOverride));
        BufferCreated d = await Alloc(holder, 10L * PageSize);

        foreach (BufferCreated x in new[] { b, c, d })
        {
            await Ask<RefDropped>(x.Buffer, new Put(holder));
        }

        await AssertNothingLeaked();
        Assert.Empty((await Stats()).Quotas);
    }

    [Fact]
    public async Task Bad_quota_requests_are_InvalidArgument()
    {
        IActorRef holder = NewHolder();

        await AskFails(Allocator, new SetQuota(holder, -1), DmaSgError.InvalidArgument);
        await AskFails(Allocator, new SetQuota(ActorRefs.Nobody, 4), DmaSgError.InvalidArgument);
        await AskFails(Allocator, new GetQuota(ActorRefs.Nobody), DmaSgError.InvalidArgument);

        Assert.Empty((await Stats()).Quotas);
        Assert.False((await Quota(holder)).IsOverride);
    }

    [Fact]
    public async Task The_quota_check_does_not_hide_a_bad_size_or_direction()
    {
        IActorRef holder = NewHolder();
        await SetQuota(holder, 1);

        await AskFails(Allocator, new Allocate(0, DmaDirection.ToDevice, Coherent, holder), DmaSgError.InvalidArgument);
        await AskFails(Allocator, new Allocate(long.MaxValue, DmaDirection.ToDevice, Coherent, holder), DmaSgError.InvalidArgument);
        await AskFails(Allocator, new Allocate(10L * PageSize, DmaDirection.None, Coherent, holder), DmaSgError.InvalidArgument);
        await AskFails(Allocator, new Allocate(10L * PageSize, DmaDirection.ToDevice, "nonesuch", holder), DmaSgError.InvalidArgument);
        await AskFails(Allocator, new Allocate(10L * PageSize, DmaDirection.ToDevice, Coherent, holder), DmaSgError.QuotaExceeded);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task USERPTR_buffers_use_the_callers_memory_and_are_not_charged()
    {
        IActorRef holder = NewHolder();
        await SetQuota(holder, 1);
        byte[] memory = new byte[8 * PageSize];

        BufferCreated u = await Ask<BufferCreated>(Allocator, new GetUserptr(new UserMemory.Managed(memory), DmaDirection.ToDevice, Coherent, holder));

        Assert.Equal(0, (await Quota(holder)).UsedPages);
        await Ask<UserptrReleased>(u.Buffer, new PutUserptr(holder));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_pools_buffers_count_against_its_owners_quota()
    {
        IActorRef owner = NewHolder();
        await SetQuota(owner, 5);
        IActorRef pool = await CreatePool(Config(2L * PageSize, min: 1, max: 4), owner);
        IActorRef borrower = NewHolder();
        Assert.Equal(2, (await Quota(owner)).UsedPages);
        Assert.Equal(0, (await Quota(pool)).UsedPages);

        BufferAcquired a = await Acquire(pool, borrower);
        BufferAcquired b = await Acquire(pool, borrower);
        Assert.Equal(4, (await Quota(owner)).UsedPages);

        // A third would put the owner at 6 pages: the acquire hears why.
        Assert.Equal(DmaSgError.QuotaExceeded, await AcquireFails(pool, borrower));
        PoolInfo info = await Info(pool);
        Assert.Equal((2, 0, 0), (info.Outstanding, info.Allocating, info.Waiters));
        Assert.Equal(0, (await Quota(borrower)).UsedPages);

        await Release(pool, a, borrower);
        await Release(pool, b, borrower);
        await Deactivate(pool);
        await AwaitStopped(pool);
        await AssertNothingLeaked();
        await AwaitAssertAsync(async () => Assert.Equal(0, (await Quota(owner)).UsedPages));
    }

    [Fact]
    public async Task A_pool_whose_preallocation_is_over_quota_is_not_created()
    {
        IActorRef owner = NewHolder();
        await SetQuota(owner, 3);

        await AskFails(Allocator, new CreatePool(Config(2L * PageSize, min: 2, max: 2), owner), DmaSgError.QuotaExceeded);

        await AwaitAssertAsync(async () => Assert.Equal(0, (await Stats()).LivePools));
        await AssertNothingLeaked();
        await AwaitAssertAsync(async () => Assert.Equal(0, (await Quota(owner)).UsedPages));
    }

    [Fact]
    public async Task The_default_quota_comes_from_the_settings_and_a_holder_can_be_given_more()
    {
        IActorRef allocator = Sys.ActorOf(AllocatorActor.Props(new DmaSgSettings { ArenaSize = 1L << 20, MaxOrder = 6, QuotaDefaultPages = 4 }), "quota-default");
        IActorRef holder = NewHolder();
        IActorRef vip = NewHolder();

        await Ask<BufferCreated>(allocator, new Allocate(4L * PageSize, DmaDirection.ToDevice, "default", holder));
        await AskFails(allocator, new Allocate(PageSize, DmaDirection.ToDevice, "default", holder), DmaSgError.QuotaExceeded);
        await AskFails(allocator, new Allocate(5L * PageSize, DmaDirection.ToDevice, "default", vip), DmaSgError.QuotaExceeded);
        await Ask<HolderQuota>(allocator, new SetQuota(vip, 8));
        await Ask<BufferCreated>(allocator, new Allocate(5L * PageSize, DmaDirection.ToDevice, "default", vip));

        AllocatorStats s = await Ask<AllocatorStats>(allocator, GetStats.Instance);
        Assert.Equal(4, s.QuotaDefaultPages);
        Assert.Equal([5L, 4L], s.Quotas.Select(q => q.UsedPages));
        Assert.Equal((4L, false), ((await Quota(holder, allocator)).LimitPages, (await Quota(holder, allocator)).IsOverride));

        await KillHolder(holder);
        await KillHolder(vip);
        await AwaitAssertAsync(async () =>
        {
            AllocatorStats after = await Ask<AllocatorStats>(allocator, GetStats.Instance);
            Assert.Equal(after.TotalPages, after.FreePages);
            Assert.Empty(after.Quotas);
        });
        await AssertNothingLeaked();
    }
}
