using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Dma;

/// <summary>
/// A simulated DMA master (struct device + its dma_map_ops). Mapping gives an sg table DMA
/// addresses; <see cref="Read"/>/<see cref="Write"/> are the device moving bytes at those addresses.
/// Unlike the rest of DmaSg.Memory, a device is shared by many buffers whose owners run on different
/// threads, so implementations are thread-safe. Calls on one <see cref="SgTable"/> come from its owner only.
/// </summary>
public interface IDmaDevice
{
    /// <summary>dev_name(): used in every report.</summary>
    string Name { get; }

    /// <summary>dma_get_max_seg_size(): buffers for this device must be built with segments no longer.</summary>
    long MaxSegmentSize { get; }

    /// <summary>One past the highest DMA address the device can reach (its dma_mask + 1).</summary>
    long AddressLimit { get; }

    /// <summary>get_device/put_device count: buffers that hold this device.</summary>
    int RefCount { get; }

    /// <summary>Mappings not yet unmapped.</summary>
    int LiveMappings { get; }

    /// <summary>
    /// dma_map_sg_attrs over the table's orig_nents entries. Returns nents (&gt; 0) and records the DMA
    /// segments in <paramref name="sgt"/>. Where the kernel returns 0 this throws a
    /// <see cref="DmaSgException"/> (OutOfMemory, Io, InvalidArgument) and maps nothing.
    /// </summary>
    int MapSg(SgTable sgt, DmaDirection dir, DmaAttrs attrs = DmaAttrs.None);

    /// <summary>dma_unmap_sg_attrs; <paramref name="nents"/> must be the orig_nents passed to map.</summary>
    void UnmapSg(SgTable sgt, int nents, DmaDirection dir, DmaAttrs attrs = DmaAttrs.None);

    /// <summary>dma_sync_sg_for_device; <paramref name="nents"/> must be orig_nents.</summary>
    void SyncSgForDevice(SgTable sgt, int nents, DmaDirection dir);

    /// <summary>dma_sync_sg_for_cpu; <paramref name="nents"/> must be orig_nents.</summary>
    void SyncSgForCpu(SgTable sgt, int nents, DmaDirection dir);

    /// <summary>The device reads memory at a DMA address (an encoder consuming a frame).</summary>
    void Read(long dmaAddress, Span<byte> destination);

    /// <summary>The device writes memory at a DMA address (a camera producing a frame).</summary>
    void Write(long dmaAddress, ReadOnlySpan<byte> source);

    /// <summary>get_device: a buffer takes a ref; DeviceGone once the device is removed.</summary>
    void Get();

    /// <summary>put_device.</summary>
    void Put();

    /// <summary>True once <see cref="Remove"/> ran: no new refs, no new mappings.</summary>
    bool IsRemoved { get; }

    /// <summary>
    /// Hot-unplug / driver unbind: from now on <see cref="Get"/> and <see cref="MapSg"/> fail with DeviceGone,
    /// while existing mappings can still be synced and unmapped. Returns what was still live (refs held by
    /// buffers, mappings not yet unmapped). Calling it again returns a fresh report.
    /// </summary>
    DeviceRemovalReport Remove();
}
