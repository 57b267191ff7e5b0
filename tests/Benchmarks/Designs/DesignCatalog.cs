using DmaSg.Benchmarks.ActorDesigns;
using DmaSg.Benchmarks.Baselines.LockedPort;
using DmaSg.Benchmarks.Harness;
using DmaSg.Benchmarks.MemoryLayer;

namespace DmaSg.Benchmarks.Designs;

/// <summary>Creates a design for one case; shared resources come from the context.</summary>
public delegate ValueTask<TDesign> DesignFactory<in TCase, TDesign>(BenchContext context, TCase benchCase);

/// <summary>
/// The designs measured against the built-in baselines of each workload:
/// P1 against Limit (warm clear) and Raw (AlignedAlloc, ArrayPool); P2 and P3 against LockedPort;
/// P5 against the Memory layer. A new design registers one factory per workload it takes part in.
/// </summary>
public sealed class DesignCatalog
{
    /// <summary>P1 contenders.</summary>
    public List<DesignFactory<AllocFreeCase, IAllocFreeDesign>> AllocFree { get; } = [];

    /// <summary>P2 contenders.</summary>
    public List<DesignFactory<PipelineCase, IFramePipelineDesign>> Pipeline { get; } = [];

    /// <summary>P3 contenders.</summary>
    public List<DesignFactory<CachedMapCase, ICachedMapDesign>> CachedMap { get; } = [];

    /// <summary>P5 contenders.</summary>
    public List<DesignFactory<ScaleCase, IScaleDesign>> Scale { get; } = [];

    /// <summary>Everything this assembly knows how to measure; the quick mode leaves out Actors.Tell.Msg (10+ ms a frame).</summary>
    public static DesignCatalog Default(bool quick = false)
    {
        var catalog = new DesignCatalog();
        catalog.AllocFree.Add((_, _) => ValueTask.FromResult<IAllocFreeDesign>(new MemoryAllocFree()));
        catalog.AllocFree.Add((_, _) => ValueTask.FromResult<IAllocFreeDesign>(new MemoryPagesAllocFree()));
        catalog.AllocFree.Add((_, _) => ValueTask.FromResult<IAllocFreeDesign>(new LockedPortAllocFree()));
        catalog.Scale.Add((_, c) => ValueTask.FromResult<IScaleDesign>(new LockedPortScale(c)));

        // The actors (DmaSg.Actors), all in one shared ActorSystem.
        catalog.AllocFree.Add(async (ctx, c) => new TellAllocFree(await ActorHost.SharedAsync(ctx).ConfigureAwait(false), c));
        catalog.AllocFree.Add(async (ctx, _) => new AskAllocFree(await ActorHost.SharedAsync(ctx).ConfigureAwait(false)));
        catalog.AllocFree.Add(async (ctx, _) => new FacadeAllocFree(await FacadeHost.SharedAsync(ctx).ConfigureAwait(false)));
        catalog.Pipeline.Add(async (ctx, c) => new TellPipeline(await ActorHost.SharedAsync(ctx).ConfigureAwait(false), c, FrameBytes.Cookie));
        catalog.Pipeline.Add(async (ctx, c) => await TellPoolPipeline.CreateAsync(await ActorHost.SharedAsync(ctx).ConfigureAwait(false), c).ConfigureAwait(false));
        if (!quick)
        {
            catalog.Pipeline.Add(async (ctx, c) => new TellPipeline(await ActorHost.SharedAsync(ctx).ConfigureAwait(false), c, FrameBytes.Messages));
        }

        catalog.CachedMap.Add(async (ctx, c) => await TellCachedMap.CreateAsync(await ActorHost.SharedAsync(ctx).ConfigureAwait(false), c).ConfigureAwait(false));
        catalog.CachedMap.Add(async (ctx, c) => await TellCachedMap.CreateAsync(await ActorHost.SharedAsync(ctx).ConfigureAwait(false), c, MapLevel.Attachment).ConfigureAwait(false));
        catalog.Scale.Add(async (ctx, c) => new TellScale(await ActorHost.SharedAsync(ctx).ConfigureAwait(false), c));
        return catalog;
    }
}
