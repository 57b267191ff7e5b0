using BenchmarkDotNet.Attributes;
using DmaSg.Benchmarks.Baselines.LockedPort;
using DmaSg.Benchmarks.Designs;

namespace DmaSg.Benchmarks.Bdn;

/// <summary>P3 under BenchmarkDotNet: 2^20 cached map+unmap pairs per invocation spread over the clients; time per pair.</summary>
public class P3CachedMapBenchmarks
{
    private const int OpsPerInvoke = 1 << 20;
    private ICachedMapDesign _locked = null!;

    [Params(1, 8, 64)]
    public int Clients { get; set; }

    [GlobalSetup]
    public void Setup() => _locked = new LockedPortCachedMap(new CachedMapCase(Clients));

    [GlobalCleanup]
    public void Cleanup() => Sync.Wait(_locked.DisposeAsync());

    [Benchmark(Baseline = true, OperationsPerInvoke = OpsPerInvoke)]
    public void LockedPort() => Sync.Wait(_locked.RunAsync(OpsPerInvoke / Clients));
}
