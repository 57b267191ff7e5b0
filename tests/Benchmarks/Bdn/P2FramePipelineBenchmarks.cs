using BenchmarkDotNet.Attributes;
using DmaSg.Benchmarks.Baselines.LockedPort;
using DmaSg.Benchmarks.Designs;

namespace DmaSg.Benchmarks.Bdn;

/// <summary>P2 under BenchmarkDotNet: 16 frames per invocation spread over the streams; time per frame.</summary>
public class P2FramePipelineBenchmarks
{
    private const int FramesPerInvoke = 16;
    private IFramePipelineDesign _locked = null!;

    [Params(1, 4, 16)]
    public int Streams { get; set; }

    [GlobalSetup]
    public void Setup() => _locked = new LockedPortPipeline(new PipelineCase(Streams));

    [GlobalCleanup]
    public void Cleanup() => Sync.Wait(_locked.DisposeAsync());

    [Benchmark(Baseline = true, OperationsPerInvoke = FramesPerInvoke)]
    public void LockedPort() => Sync.Wait(_locked.RunAsync(FramesPerInvoke / Streams));
}
