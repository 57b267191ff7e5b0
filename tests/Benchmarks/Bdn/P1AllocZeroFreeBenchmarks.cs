using BenchmarkDotNet.Attributes;
using DmaSg.Benchmarks.ActorDesigns;
using DmaSg.Benchmarks.Baselines.Limit;
using DmaSg.Benchmarks.Baselines.LockedPort;
using DmaSg.Benchmarks.Baselines.Raw;
using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.MemoryLayer;

namespace DmaSg.Benchmarks.Bdn;

/// <summary>P1 under BenchmarkDotNet: one alloc+zero+free per invocation, Limit as the baseline.</summary>
public class P1AllocZeroFreeBenchmarks
{
    private ActorHost _actors = null!;
    private FacadeHost _facade = null!;
    private IAllocFreeDesign _limit = null!;
    private IAllocFreeDesign _aligned = null!;
    private IAllocFreeDesign _pool = null!;
    private IAllocFreeDesign _memory = null!;
    private IAllocFreeDesign _pages = null!;
    private IAllocFreeDesign _locked = null!;
    private IAllocFreeDesign _tell = null!;
    private IAllocFreeDesign _ask = null!;
    private IAllocFreeDesign _facadeDesign = null!;

    [Params(4096L, 64L * 1024, PipelineCase.Nv12_1080p, 32L << 20)]
    public long Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _actors = ActorHost.Create();
        _facade = FacadeHost.Create();
        _limit = new WarmClear(Size);
        _aligned = new RawAlignedAlloc();
        _pool = new RawArrayPool();
        _memory = new MemoryAllocFree();
        _pages = new MemoryPagesAllocFree();
        _locked = new LockedPortAllocFree();
        _tell = new TellAllocFree(_actors, new AllocFreeCase(Size, ""));
        _ask = new AskAllocFree(_actors);
        _facadeDesign = new FacadeAllocFree(_facade);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var d in new[] { _limit, _aligned, _pool, _memory, _pages, _locked, _tell, _ask, _facadeDesign })
        {
            Sync.Wait(d.DisposeAsync());
        }

        Sync.Wait(_facade.DisposeAsync());
        Sync.Wait(_actors.DisposeAsync());
    }

    [Benchmark(Baseline = true)]
    public void Limit() => Sync.Wait(_limit.RunAsync(Size, 1));

    [Benchmark]
    public void RawAlignedAlloc() => Sync.Wait(_aligned.RunAsync(Size, 1));

    [Benchmark]
    public void RawArrayPool() => Sync.Wait(_pool.RunAsync(Size, 1));

    [Benchmark]
    public void Memory() => Sync.Wait(_memory.RunAsync(Size, 1));

    [Benchmark]
    public void MemoryPages() => Sync.Wait(_pages.RunAsync(Size, 1));

    [Benchmark]
    public void LockedPort() => Sync.Wait(_locked.RunAsync(Size, 1));

    [Benchmark]
    public void ActorsTell() => Sync.Wait(_tell.RunAsync(Size, 1));

    [Benchmark]
    public void ActorsAsk() => Sync.Wait(_ask.RunAsync(Size, 1));

    [Benchmark]
    public void ActorsFacade() => Sync.Wait(_facadeDesign.RunAsync(Size, 1));
}
