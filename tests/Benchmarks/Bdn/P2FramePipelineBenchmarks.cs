using BenchmarkDotNet.Attributes;
using DmaSg.Benchmarks.ActorDesigns;
using DmaSg.Benchmarks.Baselines.LockedPort;
using DmaSg.Benchmarks.Designs;

namespace DmaSg.Benchmarks.Bdn;

/// <summary>P2 under BenchmarkDotNet: 16 frames per invocation spread over the streams; time per frame.</summary>
public class P2FramePipelineBenchmarks
{
    private const int FramesPerInvoke = 16;
    private ActorHost _actors = null!;
    private IFramePipelineDesign _locked = null!;
    private IFramePipelineDesign _tell = null!;

    [Params(1, 4, 16)]
    public int Streams { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _actors = ActorHost.Create();
        _locked = new LockedPortPipeline(new PipelineCase(Streams));
        _tell = new TellPipeline(_actors, new PipelineCase(Streams), FrameBytes.Cookie);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Sync.Wait(_locked.DisposeAsync());
        Sync.Wait(_tell.DisposeAsync());
        Sync.Wait(_actors.DisposeAsync());
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = FramesPerInvoke)]
    public void LockedPort() => Sync.Wait(_locked.RunAsync(FramesPerInvoke / Streams));

    [Benchmark(OperationsPerInvoke = FramesPerInvoke)]
    public void ActorsTell() => Sync.Wait(_tell.RunAsync(FramesPerInvoke / Streams));
}
