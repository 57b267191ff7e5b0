namespace DmaSg.Memory.ScatterGather;

/// <summary>
/// One scatterlist entry on the CPU side: a run of physically contiguous pages.
/// <see cref="Phys"/> is the "physical" address of its first byte (for arena pages, the memfd
/// offset; for user pages, their virtual address) and <see cref="Cpu"/> where this process
/// reaches that byte.
/// </summary>
public readonly record struct SgEntry(long Phys, nint Cpu, long Length)
{
    public long PhysEnd => Phys + Length;
}

/// <summary>One DMA segment after mapping (sg_dma_address, sg_dma_len).</summary>
public readonly record struct DmaSegment(long Address, long Length)
{
    public long End => Address + Length;
}
