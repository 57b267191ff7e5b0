using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Actors.Tests.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests.Pools;

/// <summary>Pool helpers over the protocol: create, acquire, release, inspect, and wait for a pool to be gone.</summary>
public abstract class PoolTestKit(ITestOutputHelper output) : DmaSgTestKit(output)
{
    protected PoolConfig Config(long size, int min = 0, int max = 4, PoolEmptyPolicy whenEmpty = PoolEmptyPolicy.Fail, bool zero = false,
        string device = Coherent, DmaDirection direction = DmaDirection.Bidirectional) =>
        new()
        {
            Size = size,
            MinBuffers = min,
            MaxBuffers = max,
            WhenEmpty = whenEmpty,
            ZeroOnRecycle = zero,
            Device = device,
            Direction = direction,
            AcquireTimeout = TimeSpan.FromSeconds(5),
        };

    protected async Task<IActorRef> CreatePool(PoolConfig config, IActorRef? owner = null) =>
        (await Ask<PoolCreated>(Allocator, new CreatePool(config, owner ?? NewHolder()))).Pool;

    protected async Task<BufferAcquired> Acquire(IActorRef pool, IActorRef holder) =>
        await Ask<BufferAcquired>(pool, new AcquireBuffer(holder));

    protected Task Release(IActorRef pool, BufferAcquired lease, IActorRef holder) =>
        Ask<Done>(pool, new ReleaseBuffer(lease.Buffer.Buffer, holder));

    protected Task<PoolInfo> Info(IActorRef pool) => Ask<PoolInfo>(pool, Inspect.Instance);

    protected Task Deactivate(IActorRef pool) => Ask<Done>(pool, DeactivatePool.Instance);

    /// <summary>Waits until the pool actor has stopped (deactivated and every buffer back).</summary>
    protected async Task AwaitStopped(IActorRef pool)
    {
        var probe = CreateTestProbe();
        probe.Watch(pool);
        await probe.ExpectTerminatedAsync(pool, Timeout);
    }

    /// <summary>Waits until the allocator holds exactly <paramref name="pages"/> pages for buffers.</summary>
    protected Task AwaitAllocatedPages(long pages) =>
        AwaitAssertAsync(async () => Assert.Equal(pages, (await Stats()).AllocatedPages), Timeout, TimeSpan.FromMilliseconds(10));

    protected async Task<DmaSgError> AcquireFails(IActorRef pool, IActorRef holder) =>
        Assert.IsType<DmaSgFailure>(await DmaSgAsk.Request(Sys, pool, new AcquireBuffer(holder), Timeout)).Error;
}
