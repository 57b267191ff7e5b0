using Akka.Actor;
using Akka.Configuration;
using DmaSg.Actors.Allocator;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests.Support;

/// <summary>
/// An actor system with one allocator over a small arena and the three device models, each behind a
/// DMA-API checker that refuses misuse. Every test ends by proving nothing leaked.
/// </summary>
public abstract class DmaSgTestKit : Akka.TestKit.Xunit2.TestKit
{
    public const string Coherent = "coherent";
    public const string Iommu = "iommu";
    public const string Bounce = "bounce";

    private static readonly Config TestConfig = ConfigurationFactory.ParseString("""
        akka.loglevel = WARNING
        akka.stdout-loglevel = WARNING
        akka.log-dead-letters = off
        akka.log-dead-letters-during-shutdown = off
        """);

    protected DmaSgTestKit(ITestOutputHelper output, long arenaSize = 16L << 20, int maxOrder = 6)
        : base(TestConfig, output: output)
    {
        PageSize = Environment.SystemPageSize;
        Checkers = new Dictionary<string, DmaApiChecker>
        {
            [Coherent] = new(new CoherentDevice(Coherent)),
            [Iommu] = new(new IommuDevice(Iommu)),
            [Bounce] = new(new BounceDevice(Bounce, poolSize: 8L << 20)),
        };
        Allocator = Sys.ActorOf(AllocatorActor.Props(new DmaSgSettings
        {
            ArenaSize = arenaSize,
            MaxOrder = maxOrder,
            DeviceSpecs = [],
            Devices = [.. Checkers.Values],
        }), "dmasg");
    }

    public static TheoryData<string> Devices => new() { Coherent, Iommu, Bounce };

    protected int PageSize { get; }

    protected IActorRef Allocator { get; }

    protected IReadOnlyDictionary<string, DmaApiChecker> Checkers { get; }

    protected static TimeSpan Timeout => TimeSpan.FromSeconds(10);

    /// <summary>Asks through <see cref="DmaSgAsk"/> (watching the target) and expects a <typeparamref name="T"/>.</summary>
    protected async Task<T> Ask<T>(IActorRef target, IDmaSgRequest request)
        where T : IDmaSgReply
    {
        IDmaSgReply reply = await DmaSgAsk.Request(Sys, target, request, Timeout);
        return Assert.IsType<T>(reply);
    }

    /// <summary>Asks and expects a typed failure of <paramref name="error"/>.</summary>
    protected async Task<DmaSgFailure> AskFails(IActorRef target, IDmaSgRequest request, DmaSgError error)
    {
        IDmaSgReply reply = await DmaSgAsk.Request(Sys, target, request, Timeout);
        var failure = Assert.IsType<DmaSgFailure>(reply);
        Assert.Equal(error, failure.Error);
        return failure;
    }

    protected Task<AllocatorStats> Stats() => Ask<AllocatorStats>(Allocator, GetStats.Instance);

    protected Task<DmaSgInspection> InspectAll() => Ask<DmaSgInspection>(Allocator, Inspect.Instance);

    /// <summary>A holder actor that a test can kill to simulate a crashed client.</summary>
    protected IActorRef NewHolder() => CreateTestProbe().Ref;

    protected Task<BufferCreated> Alloc(IActorRef holder, long size, string device = Coherent, DmaDirection dir = DmaDirection.Bidirectional) =>
        Ask<BufferCreated>(Allocator, new Allocate(size, dir, device, holder));

    protected async Task<(BufferCreated Buffer, Exported DmaBuf)> AllocExported(IActorRef holder, long size, string device = Coherent,
        DmaDirection dir = DmaDirection.Bidirectional)
    {
        BufferCreated b = await Alloc(holder, size, device, dir);
        Exported e = await Ask<Exported>(b.Buffer, new ExportDmaBuf(holder));
        return (b, e);
    }

    /// <summary>Waits until every page is free, no device mapping or user mapping is live, no DmaSg actor runs, and the checkers saw nothing.</summary>
    protected Task AssertNothingLeaked() =>
        AwaitAssertAsync(async () =>
        {
            AllocatorStats s = await Stats();
            Assert.Equal(s.TotalPages, s.FreePages);
            Assert.Equal(0, s.DeviceMappings);
            Assert.Equal(0, s.LiveMmaps);
            Assert.Equal(0, s.AttachmentMappings);
            Assert.Equal(new LiveActorCounts(0, 0, 0, 0), s.Actors);
            Assert.Equal(0, s.LiveBuffers);
            Assert.Equal(0, s.LiveImporters);
            Assert.All(s.Devices, d => Assert.Equal(0, d.RefCount));
            Assert.Equal(0, s.PagesReclaimed);
            AssertNoViolations();
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20));

    protected void AssertNoViolations()
    {
        foreach (DmaApiChecker checker in Checkers.Values)
        {
            Assert.Empty(checker.Violations);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            // After the system (and so every buffer) is gone: frees the bounce pool.
            foreach (DmaApiChecker checker in Checkers.Values)
            {
                checker.Dispose();
            }
        }
    }

    /// <summary>Stops a holder as a crash would and waits until it is dead.</summary>
    protected async Task KillHolder(IActorRef holder)
    {
        var probe = CreateTestProbe();
        probe.Watch(holder);
        holder.Tell(PoisonPill.Instance);
        await probe.ExpectTerminatedAsync(holder, Timeout);
    }
}
