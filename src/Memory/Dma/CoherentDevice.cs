using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Dma;

/// <summary>
/// dma-direct on a cache-coherent platform: the DMA address of an entry is its "physical" address
/// (<see cref="SgEntry.Phys"/>, the arena offset for arena pages), every entry is its own DMA segment
/// (nents = orig_nents) and syncs have nothing to do. The device reads and writes the pages themselves.
/// </summary>
public sealed class CoherentDevice : DmaDevice
{
    /// <param name="name">dev_name().</param>
    /// <param name="maxSegmentSize">dma_get_max_seg_size(); by default the largest page multiple in 32 bits.</param>
    /// <param name="addressLimit">dma_mask + 1; a mapping with an address at or past it fails with Io.</param>
    public CoherentDevice(string name, long? maxSegmentSize = null, long addressLimit = long.MaxValue)
        : base(name, maxSegmentSize ?? SgTable.DefaultMaxSegment(Environment.SystemPageSize), addressLimit)
    {
    }

    protected override DmaMapping AllocateMapping(SgTable sgt, DmaDirection dir)
    {
        ReadOnlySpan<SgEntry> entries = sgt.Entries;
        var segments = new DmaSegment[entries.Length];
        var pieces = new DevicePiece[entries.Length];
        for (int i = 0; i < entries.Length; i++)
        {
            segments[i] = new DmaSegment(entries[i].Phys, entries[i].Length);
            pieces[i] = new DevicePiece(entries[i].Phys, entries[i].Cpu, entries[i].Length);
        }

        return new DmaMapping(sgt, dir, segments, pieces);
    }

    protected override void ReleaseMapping(DmaMapping mapping)
    {
        // Nothing was allocated: the DMA addresses are the pages' own.
    }
}
