using BenchmarkDotNet.Attributes;
using DmaSg.Benchmarks.ActorDesigns;
using DmaSg.Benchmarks.Baselines.LockedPort;
using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.MemoryLayer;

namespace DmaSg.Benchmarks.Bdn;

/// <summary>
/// P5 under BenchmarkDotNet: create 100k live buffers, then destroy them; time and allocated bytes per
/// buffer (the MemoryDiagnoser's Allocated column divided by 100k is the bookkeeping allocated per buffer).
/// </summary>
[WarmupCount(1)]
[IterationCount(5)]
[InvocationCount(1)]
public class P5ScaleBenchmarks
{
    private static readonly ScaleCase Case = new();
    private IScaleDesign _memory = null!;
    private IScaleDesign _locked = null!;
    private ActorHost _actors = null!;
    private IScaleDesign _tell = null!;

    [GlobalSetup]
    public void Setup()
    {
        _memory = new MemoryScale(Case);
        _locked = new LockedPortScale(Case);
        _actors = ActorHost.Create();
        _tell = new TellScale(_actors, Case);
        foreach (var d in new[] { _memory, _locked, _tell })
        {
            Sync.Wait(d.PrepareAsync());
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Sync.Wait(_memory.DisposeAsync());
        Sync.Wait(_locked.DisposeAsync());
        Sync.Wait(_tell.DisposeAsync());
        Sync.Wait(_actors.DisposeAsync());
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = 100_000)]
    public void Memory() => CreateDestroy(_memory);

    [Benchmark(OperationsPerInvoke = 100_000)]
    public void LockedPort() => CreateDestroy(_locked);

    [Benchmark(OperationsPerInvoke = 100_000)]
    public void ActorsTell() => CreateDestroy(_tell);

    private static void CreateDestroy(IScaleDesign design)
    {
        Sync.Wait(design.CreateAsync(Case.LiveBuffers));
        Sync.Wait(design.DestroyAsync());
    }
}
