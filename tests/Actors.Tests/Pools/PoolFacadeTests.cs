using DmaSg.Actors.Facade;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Tests.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests.Pools;

/// <summary>Pools and quotas through BufferManager and its clients, configured by HOCON only.</summary>
public class PoolFacadeTests(ITestOutputHelper output) : FacadeTestKit(output, Hocon + """
    dmasg.pools { max-buffers = 2, when-empty = fail, direction = from-device, device = camera }
    dmasg.quota.default-pages = 16
    """)
{
    [Fact]
    public async Task A_pool_takes_its_defaults_from_dmasg_pools()
    {
        await using PoolHandle pool = await Dmasg.CreatePoolAsync(2L * PageSize);

        Assert.Equal((2, PoolEmptyPolicy.Fail, DmaDirection.FromDevice, "camera", false),
            (pool.Config.MaxBuffers, pool.Config.WhenEmpty, pool.Config.Direction, pool.Config.Device, pool.Config.ZeroOnRecycle));
        await using PooledBufferHandle a = await pool.AcquireAsync();
        await using PooledBufferHandle b = await pool.AcquireAsync();
        Assert.Equal(("camera", DmaDirection.FromDevice, 2L * PageSize), (a.Device, a.Direction, a.Size));

        var e = await Assert.ThrowsAsync<DmaSgException>(() => pool.AcquireAsync());
        Assert.Equal(DmaSgError.WouldBlock, e.Error);
    }

    [Fact]
    public async Task Disposing_a_pooled_buffer_gives_it_back_once_and_the_next_acquire_recycles_it()
    {
        await using PoolHandle pool = await Dmasg.CreatePoolAsync(PageSize, device: "encoder", direction: DmaDirection.ToDevice, maxBuffers: 1);
        PooledBufferHandle first = await pool.AcquireAsync();
        await first.WriteAsync(0, new byte[] { 7, 7, 7 });
        await first.DisposeAsync();
        await first.DisposeAsync();
        Assert.Equal(DmaSgError.UseAfterRelease, (await Assert.ThrowsAsync<DmaSgException>(() => first.ReadAsync(0, 3))).Error);

        await using PooledBufferHandle second = await pool.AcquireAsync();

        Assert.True(second.Recycled);
        Assert.Equal(first.Buffer, second.Buffer);
        Assert.Equal(new byte[] { 7, 7, 7 }, await second.ReadAsync(0, 3));
        PoolInfo info = await pool.InspectAsync();
        Assert.Equal((1, 1L), (info.Outstanding, info.Recycles));
    }

    [Fact]
    public async Task Disposing_the_pool_deactivates_it_and_lent_buffers_stay_usable_until_given_back()
    {
        PoolHandle pool = await Dmasg.CreatePoolAsync(PageSize, minBuffers: 2);
        PooledBufferHandle lease = await pool.AcquireAsync();

        await pool.DisposeAsync();
        await pool.DeactivateAsync();

        await lease.WriteAsync(0, new byte[] { 1 });
        Assert.Equal(new byte[] { 1 }, await lease.ReadAsync(0, 1));
        Assert.Equal(DmaSgError.UseAfterRelease, (await Assert.ThrowsAsync<DmaSgException>(() => pool.AcquireAsync())).Error);
        Assert.Equal(1, (await Dmasg.GetStatsAsync()).LiveBuffers);

        await lease.DisposeAsync();
        await AssertNothingLeaked();
        Assert.Equal(0, (await Dmasg.GetStatsAsync()).LivePools);
    }

    [Fact]
    public async Task A_waiting_acquire_completes_when_another_borrower_gives_its_buffer_back()
    {
        PoolConfig config = Dmasg.Client.PoolDefaults(PageSize) with { MaxBuffers = 1, WhenEmpty = PoolEmptyPolicy.Wait };
        await using PoolHandle pool = await Dmasg.CreatePoolAsync(config);
        await using DmaSgClient other = Dmasg.CreateClient();
        PooledBufferHandle held = await pool.AcquireAsync();

        // Lent to a second client: the pool belongs to the first, a borrower can be anyone.
        Task<PooledBufferHandle> waiting = pool.AcquireAsync(other);
        await AwaitAssertAsync(async () => Assert.Equal(1, (await pool.InspectAsync()).Waiters));

        await held.DisposeAsync();
        await using PooledBufferHandle got = await waiting;
        Assert.Equal(held.Buffer, got.Buffer);
        Assert.Equal(other.Holder, Assert.Single((await pool.InspectAsync()).Leases).Holder);
    }

    [Fact]
    public async Task A_disposed_client_gives_back_what_it_borrowed_and_its_own_pool_deactivates()
    {
        await using PoolHandle shared = await Dmasg.CreatePoolAsync(PageSize);
        DmaSgClient client = Dmasg.CreateClient();
        await shared.AcquireAsync(client);
        PoolHandle owned = await client.CreatePoolAsync(PageSize, minBuffers: 2);

        await client.DisposeAsync();

        await AwaitAssertAsync(async () =>
        {
            PoolInfo info = await shared.InspectAsync();
            Assert.Equal((1, 0), (info.Free, info.Outstanding));
            DmaSgInspection all = await Dmasg.InspectAsync();
            Assert.Equal(shared.Pool, Assert.Single(all.Pools).Subject);
        });
        Assert.Equal(DmaSgError.UseAfterRelease, (await Assert.ThrowsAsync<DmaSgException>(owned.InspectAsync)).Error);
        await shared.DisposeAsync();
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_buffer_given_back_while_its_export_lives_is_not_recycled()
    {
        await using PoolHandle pool = await Dmasg.CreatePoolAsync(PageSize, device: "encoder", maxBuffers: 1);
        PooledBufferHandle lease = await pool.AcquireAsync();
        DmaBufHandle dmabuf = await lease.ExportAsync();
        await lease.DisposeAsync();

        await using PooledBufferHandle next = await pool.AcquireAsync();

        Assert.NotEqual(lease.Buffer, next.Buffer);
        Assert.Equal(1, (await pool.InspectAsync()).Dropped);
        await dmabuf.DisposeAsync();
        await AwaitAssertAsync(async () => Assert.Equal(1, (await Dmasg.GetStatsAsync()).LiveBuffers));
    }

    [Fact]
    public async Task The_default_quota_comes_from_HOCON_and_each_client_has_its_own()
    {
        await using DmaSgClient a = Dmasg.CreateClient();
        await using DmaSgClient b = Dmasg.CreateClient();

        await using BufferHandle full = await a.AllocateAsync(16L * PageSize);
        var e = await Assert.ThrowsAsync<DmaSgException>(() => a.AllocateAsync(1));
        Assert.Equal(DmaSgError.QuotaExceeded, e.Error);
        await using BufferHandle other = await b.AllocateAsync(10L * PageSize);

        HolderQuota qa = await a.GetQuotaAsync();
        Assert.Equal((16L, 16L, false, 1), (qa.UsedPages, qa.LimitPages, qa.IsOverride, qa.Buffers));
        Assert.Equal(10, (await Dmasg.GetQuotaAsync(b.Holder)).UsedPages);
        AllocatorStats stats = await Dmasg.GetStatsAsync();
        Assert.Equal(16, stats.QuotaDefaultPages);
        Assert.Equal([a.Holder, b.Holder], stats.Quotas.Select(q => q.Holder));

        // Lifted for a, by the client itself and by anyone who has its holder.
        Assert.True((await a.SetQuotaAsync(0)).IsUnlimited);
        await using BufferHandle more = await a.AllocateAsync(PageSize);
        await Dmasg.SetQuotaAsync(a.Holder, 17);
        Assert.Equal(DmaSgError.QuotaExceeded, (await Assert.ThrowsAsync<DmaSgException>(() => a.AllocateAsync(1))).Error);
    }

    [Fact]
    public async Task A_pool_over_its_owners_quota_is_refused_with_QuotaExceeded()
    {
        await using DmaSgClient client = Dmasg.CreateClient();
        await client.SetQuotaAsync(3);

        var e = await Assert.ThrowsAsync<DmaSgException>(() => client.CreatePoolAsync(2L * PageSize, minBuffers: 2));

        Assert.Equal(DmaSgError.QuotaExceeded, e.Error);
        await AssertNothingLeaked();
        Assert.Equal(0, (await Dmasg.GetStatsAsync()).LivePools);
    }
}
