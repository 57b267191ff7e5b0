using BenchmarkDotNet.Attributes;
using DmaSg.Benchmarks.ActorDesigns;
using DmaSg.Benchmarks.Baselines.LockedPort;
using DmaSg.Benchmarks.Designs;

namespace DmaSg.Benchmarks.Bdn;

/// <summary>P3 under BenchmarkDotNet: 2^16 cached map+unmap pairs per invocation spread over the clients; time per pair.</summary>
public class P3CachedMapBenchmarks
{
    private const int OpsPerInvoke = 1 << 16;
    private ActorHost _actors = null!;
    private ICachedMapDesign _locked = null!;
    private ICachedMapDesign _tell = null!;
    private ICachedMapDesign _attach = null!;

    [Params(1, 8, 64)]
    public int Clients { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _actors = ActorHost.Create();
        _locked = new LockedPortCachedMap(new CachedMapCase(Clients));
        _tell = TellCachedMap.CreateAsync(_actors, new CachedMapCase(Clients)).GetAwaiter().GetResult();
        _attach = TellCachedMap.CreateAsync(_actors, new CachedMapCase(Clients), MapLevel.Attachment).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Sync.Wait(_locked.DisposeAsync());
        Sync.Wait(_tell.DisposeAsync());
        Sync.Wait(_attach.DisposeAsync());
        Sync.Wait(_actors.DisposeAsync());
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = OpsPerInvoke)]
    public void LockedPort() => Sync.Wait(_locked.RunAsync(OpsPerInvoke / Clients));

    [Benchmark(OperationsPerInvoke = OpsPerInvoke)]
    public void ActorsTell() => Sync.Wait(_tell.RunAsync(OpsPerInvoke / Clients));

    [Benchmark(OperationsPerInvoke = OpsPerInvoke)]
    public void ActorsTellAttach() => Sync.Wait(_attach.RunAsync(OpsPerInvoke / Clients));
}
