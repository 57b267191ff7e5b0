using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Dma;

/// <summary>
/// A device behind an IOMMU (iommu_dma_map_sg): map lays all entries out in one IOVA range taken from the
/// device's own allocator, so DMA-contiguous entries merge and a table with many CPU entries becomes one
/// DMA segment (nents = 1 &lt; orig_nents). Entry i keeps its offset inside its first page; its IOVA is the
/// range base plus the page-rounded sizes of the entries before it plus that offset. Syncs are no-ops
/// (a coherent IOMMU). Unmap frees the range.
/// </summary>
public sealed class IommuDevice : DmaDevice
{
    /// <summary>Default start of the IOVA space: above 4 GiB, so IOVAs never look like arena offsets.</summary>
    public const long DefaultIovaBase = 0x1_0000_0000;

    /// <summary>Default end of the IOVA space: 4 GiB of it.</summary>
    public const long DefaultAddressLimit = 0x2_0000_0000;

    private readonly IovaAllocator _iova;

    /// <param name="name">dev_name().</param>
    /// <param name="iovaBase">Lowest IOVA handed out.</param>
    /// <param name="addressLimit">One past the highest IOVA; when the space is used up map fails with OutOfMemory.</param>
    /// <param name="maxSegmentSize">dma_get_max_seg_size(): merged segments never grow past it. Default: the largest page multiple in 32 bits.</param>
    /// <param name="granule">IOMMU page size; default the OS page size.</param>
    public IommuDevice(string name, long iovaBase = DefaultIovaBase, long addressLimit = DefaultAddressLimit, long? maxSegmentSize = null, int? granule = null)
        : base(name, maxSegmentSize ?? SgTable.DefaultMaxSegment(Environment.SystemPageSize), addressLimit)
    {
        Granule = granule ?? Environment.SystemPageSize;
        _iova = new IovaAllocator(iovaBase, addressLimit, Granule);
    }

    public int Granule { get; }

    /// <summary>IOVA bytes held by live mappings (granule-rounded).</summary>
    public long IovaBytesInUse => WithLock(() => _iova.BytesInUse);

    /// <summary>IOVA bytes the device can hand out in total.</summary>
    public long IovaSpace => _iova.End - _iova.Start;

    protected override DmaMapping AllocateMapping(SgTable sgt, DmaDirection dir)
    {
        ReadOnlySpan<SgEntry> entries = sgt.Entries;
        long mask = Granule - 1;

        // Each entry occupies whole granules; inside them it starts at its own in-page offset.
        var layout = new long[entries.Length];
        long total = 0;
        for (int i = 0; i < entries.Length; i++)
        {
            long inPage = entries[i].Phys & mask;
            layout[i] = total + inPage;
            total += _iova.AlignUp(inPage + entries[i].Length);
        }

        if (!_iova.TryAllocate(total, out long iovaBase))
        {
            throw new DmaSgException(DmaSgError.OutOfMemory,
                $"{Name}: no {total} bytes of IOVA space left for {sgt.Owner} ({_iova.BytesInUse} of {IovaSpace} in use)");
        }

        var pieces = new DevicePiece[entries.Length];
        var segments = new List<DmaSegment>();
        for (int i = 0; i < entries.Length; i++)
        {
            long iova = iovaBase + layout[i];
            pieces[i] = new DevicePiece(iova, entries[i].Cpu, entries[i].Length);

            // __finalise_sg: an entry continues the previous segment when it starts where that one ended
            // (it ended on a granule boundary and this one starts at offset 0) and the result fits max_seg.
            if (segments.Count > 0 && segments[^1].End == iova && segments[^1].Length + entries[i].Length <= MaxSegmentSize)
            {
                segments[^1] = segments[^1] with { Length = segments[^1].Length + entries[i].Length };
            }
            else
            {
                segments.Add(new DmaSegment(iova, entries[i].Length));
            }
        }

        return new DmaMapping(sgt, dir, segments.ToArray(), pieces);
    }

    protected override void ReleaseMapping(DmaMapping mapping)
    {
        long start = mapping.Pieces[0].DmaAddress & ~(long)(Granule - 1);
        DevicePiece last = mapping.Pieces[^1];
        _iova.Free(start, last.DmaEnd - start);
    }
}
