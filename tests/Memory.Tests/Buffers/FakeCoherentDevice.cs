using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Tests.Buffers;

/// <summary>A minimal coherent device (DMA address = phys) for buffer tests until the real models land.</summary>
internal sealed unsafe class FakeCoherentDevice : IDmaDevice
{
    private readonly List<SgTable> _live = [];

    public string Name { get; init; } = "fake";

    public long MaxSegmentSize { get; init; } = long.MaxValue;

    public long AddressLimit { get; init; } = long.MaxValue;

    public bool Removed { get; set; }

    public int RefCount { get; private set; }

    public int LiveMappings => _live.Count;

    public int Violations { get; private set; }

    public int MapSg(SgTable sgt, DmaDirection dir, DmaAttrs attrs = DmaAttrs.None)
    {
        dir.ThrowIfInvalidForMapping();
        var segs = new DmaSegment[sgt.OrigNents];
        for (int i = 0; i < segs.Length; i++)
        {
            var e = sgt.Entries[i];
            if (e.PhysEnd > AddressLimit)
            {
                throw new DmaSgException(DmaSgError.OutOfMemory, "beyond the address limit");
            }

            segs[i] = new DmaSegment(e.Phys, e.Length);
        }

        sgt.SetDmaMapping(segs);
        _live.Add(sgt);
        return segs.Length;
    }

    public void UnmapSg(SgTable sgt, int nents, DmaDirection dir, DmaAttrs attrs = DmaAttrs.None)
    {
        if (!_live.Remove(sgt) || nents != sgt.OrigNents)
        {
            Violations++;
        }

        sgt.ClearDmaMapping();
    }

    public void SyncSgForDevice(SgTable sgt, int nents, DmaDirection dir) => CheckSync(sgt, nents);

    public void SyncSgForCpu(SgTable sgt, int nents, DmaDirection dir) => CheckSync(sgt, nents);

    public void Read(long dmaAddress, Span<byte> destination) => new Span<byte>((void*)Cpu(dmaAddress, destination.Length), destination.Length).CopyTo(destination);

    public void Write(long dmaAddress, ReadOnlySpan<byte> source) => source.CopyTo(new Span<byte>((void*)Cpu(dmaAddress, source.Length), source.Length));

    public void Get()
    {
        if (Removed)
        {
            throw new DmaSgException(DmaSgError.DeviceGone, "removed");
        }

        RefCount++;
    }

    public void Put() => RefCount--;

    private void CheckSync(SgTable sgt, int nents)
    {
        if (!_live.Contains(sgt) || nents != sgt.OrigNents)
        {
            Violations++;
        }
    }

    private nint Cpu(long address, int length)
    {
        foreach (var t in _live)
        {
            foreach (var e in t.Entries)
            {
                if (address >= e.Phys && address + length <= e.PhysEnd)
                {
                    return e.Cpu + (nint)(address - e.Phys);
                }
            }
        }

        throw new DmaSgException(DmaSgError.DmaApiViolation, $"device access at 0x{address:x} outside any mapping");
    }
}
