using DmaSg.Memory.Dma;

namespace DmaSg.Benchmarks.Designs;

// The plug-in points. A design (the Memory layer, the lock-based port, the actors through the facade or
// the Tell protocol) implements the interface of each workload it takes part in and registers a factory
// in DesignCatalog. The harness owns timing, rounds, baselines and reporting; a design only does the work.

/// <summary>P1: allocate <c>size</c> zeroed bytes and free them again.</summary>
public interface IAllocFreeDesign : IAsyncDisposable
{
    string Name { get; }

    /// <summary>Allocates <paramref name="size"/> zeroed bytes and frees them, <paramref name="count"/> times in sequence.</summary>
    ValueTask RunAsync(long size, int count);
}

/// <summary>P1 case: one allocation size.</summary>
public sealed record AllocFreeCase(long Size, string Label);

/// <summary>
/// P2: a frame pipeline. Per frame: allocate a buffer for the camera, prepare, the camera DMA-writes the
/// frame through its device model, finish, export a dmabuf, the encoder attaches and maps it, DMA-reads
/// the frame, unmaps and detaches, and the buffer is put. Streams run concurrently, frames of one stream
/// in sequence. Use <see cref="FrameData"/> to stamp and check frames so every design moves real bytes.
/// </summary>
public interface IFramePipelineDesign : IAsyncDisposable
{
    string Name { get; }

    /// <summary>
    /// Runs <paramref name="framesPerStream"/> frames on each of the case's streams and returns when all are
    /// done: frames completed, wall time, and (optionally) per-frame latencies.
    /// </summary>
    ValueTask<Harness.RoundSample> RunAsync(int framesPerStream);
}

/// <summary>P2 case.</summary>
public sealed record PipelineCase(int Streams, long FrameSize = PipelineCase.Nv12_1080p, DeviceKind Camera = DeviceKind.Coherent, DeviceKind Encoder = DeviceKind.Iommu)
{
    /// <summary>One 1920x1080 NV12 frame: 1920 * 1080 * 3 / 2 bytes.</summary>
    public const long Nv12_1080p = 3_110_400;
}

/// <summary>
/// P3: map + unmap of an attachment whose mapping is already cached in the requested direction (the
/// seed returns the cached table; unmap does nothing), by many clients of one exported buffer, each
/// with its own attachment.
/// </summary>
public interface ICachedMapDesign : IAsyncDisposable
{
    string Name { get; }

    /// <summary>Every client does <paramref name="opsPerClient"/> map+unmap pairs concurrently; latencies per pair.</summary>
    ValueTask<Harness.RoundSample> RunAsync(int opsPerClient);
}

/// <summary>P3 case.</summary>
public sealed record CachedMapCase(int Clients, long BufferSize = 64 * 1024, DmaDirection Direction = DmaDirection.ToDevice, DeviceKind Device = DeviceKind.Iommu);

/// <summary>P5: many live buffers at once.</summary>
public interface IScaleDesign : IAsyncDisposable
{
    /// <summary>4 MiB: the largest buddy block (max order 10), the unit in which <see cref="PrepareAsync"/> walks the arena.</summary>
    public const long ArenaBlock = 4L << 20;

    string Name { get; }

    /// <summary>
    /// Brings the arena to steady state before anything is measured: hands out every page twice, in
    /// <see cref="ArenaBlock"/> buffers. The arena marks a page dirty on its first handout and clears it on
    /// the next, and that first clear also page-faults it in; a long-running node is past both.
    /// </summary>
    ValueTask PrepareAsync();

    /// <summary>Creates <paramref name="count"/> live buffers of the case's size and keeps them.</summary>
    ValueTask CreateAsync(int count);

    /// <summary>Frees every buffer created by <see cref="CreateAsync"/>.</summary>
    ValueTask DestroyAsync();
}

/// <summary>P5 case.</summary>
public sealed record ScaleCase(int LiveBuffers = 100_000, long BufferSize = 4096);

/// <summary>The device models of DmaSg.Memory, by name.</summary>
public enum DeviceKind
{
    Coherent,
    Iommu,
    Bounce,
}

public static class Devices
{
    public static DmaDevice Create(DeviceKind kind, string name) => kind switch
    {
        DeviceKind.Coherent => new CoherentDevice(name),
        DeviceKind.Iommu => new IommuDevice(name),
        DeviceKind.Bounce => new BounceDevice(name),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
