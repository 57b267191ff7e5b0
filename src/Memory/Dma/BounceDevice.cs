using System.Runtime.InteropServices;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Dma;

/// <summary>
/// swiotlb: a device that cannot reach the pages (say a 32-bit DMA mask) works on bounce memory the
/// device owns. Map gives each entry its own run of 2 KiB slots (nents = orig_nents; one run is at most
/// 128 slots, 256 KiB: "swiotlb buffer is full") and copies CPU -> bounce; the device only ever touches
/// the bounce copy, so data moves between the two only at these points:
/// <list type="bullet">
/// <item>map: CPU -> bounce in every direction, even with SkipCpuSync, as the kernel does since its
/// info-leak fix: a device that writes only part of a FromDevice buffer must leave the rest as it was,
/// and the bounce slots must not expose a previous mapping's bytes;</item>
/// <item>sync for device: CPU -> bounce for ToDevice/Bidirectional;</item>
/// <item>sync for cpu: bounce -> CPU for FromDevice/Bidirectional;</item>
/// <item>unmap: bounce -> CPU for FromDevice/Bidirectional unless SkipCpuSync.</item>
/// </list>
/// So a missing prepare()/finish() shows up as stale bytes. Syncs and unmap act on the first nents
/// entries they are given, like the kernel's for_each_sg loops: a sync over a too-short count skips the rest.
/// </summary>
public sealed unsafe class BounceDevice : DmaDevice
{
    /// <summary>IO_TLB_SIZE.</summary>
    public const int SlotSize = 2048;

    /// <summary>IO_TLB_SEGSIZE: one mapping never crosses a set of this many slots.</summary>
    public const int SlotsPerSet = 128;

    /// <summary>The largest single mapping (and so the max segment size): 256 KiB.</summary>
    public const long MaxMappingSize = (long)SlotSize * SlotsPerSet;

    public const long DefaultPoolSize = 64L << 20;

    /// <summary>Where the pool sits in the device's address space: below 4 GiB, like the low-memory swiotlb.</summary>
    public const long DefaultPoolDmaBase = 0x8000_0000;

    /// <summary>A 32-bit device, the usual reason to bounce.</summary>
    public const long DefaultAddressLimit = 0x1_0000_0000;

    private readonly bool[] _slotUsed;
    private byte* _pool;
    private int _slotsInUse;
    private int _cursor;

    /// <param name="name">dev_name().</param>
    /// <param name="poolSize">Bytes of bounce memory, a multiple of <see cref="SlotSize"/>; default 64 MiB.</param>
    /// <param name="poolDmaBase">DMA address of the pool's first byte.</param>
    /// <param name="addressLimit">dma_mask + 1; the pool must lie below it.</param>
    public BounceDevice(string name, long poolSize = DefaultPoolSize, long poolDmaBase = DefaultPoolDmaBase, long addressLimit = DefaultAddressLimit)
        : base(name, MaxMappingSize, addressLimit)
    {
        if (poolSize <= 0 || poolSize % SlotSize != 0 || poolSize / SlotSize > int.MaxValue)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{name}: bounce pool size {poolSize} must be a positive multiple of {SlotSize}");
        }

        if (poolDmaBase < 0 || poolDmaBase > addressLimit - poolSize)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument,
                $"{name}: bounce pool 0x{poolDmaBase:x}+{poolSize} does not fit below the address limit 0x{addressLimit:x}");
        }

        PoolSize = poolSize;
        PoolDmaBase = poolDmaBase;
        _slotUsed = new bool[poolSize / SlotSize];
        _pool = (byte*)NativeMemory.AlignedAlloc((nuint)poolSize, (nuint)Environment.SystemPageSize);
        NativeMemory.Clear(_pool, (nuint)poolSize);
    }

    ~BounceDevice()
    {
        Dispose(false);
    }

    public long PoolSize { get; }

    public long PoolDmaBase { get; }

    public int SlotCount => _slotUsed.Length;

    /// <summary>Slots held by live mappings.</summary>
    public int BounceSlotsInUse => WithLock(() => _slotsInUse);

    /// <summary>Bounce bytes held by live mappings (whole slots).</summary>
    public long BounceBytesInUse => WithLock(() => (long)_slotsInUse * SlotSize);

    protected override void CheckSegment(SgTable sgt, int index, SgEntry entry)
    {
        if (entry.Length > MaxMappingSize)
        {
            throw new DmaSgException(DmaSgError.OutOfMemory,
                $"{Name}: bounce buffer full: swiotlb buffer is full (sz: {entry.Length} bytes) for sg entry {index} of {sgt.Owner}; one mapping holds at most {MaxMappingSize} bytes");
        }
    }

    protected override DmaMapping AllocateMapping(SgTable sgt, DmaDirection dir)
    {
        ReadOnlySpan<SgEntry> entries = sgt.Entries;
        var pieces = new DevicePiece[entries.Length];
        var segments = new DmaSegment[entries.Length];
        for (int i = 0; i < entries.Length; i++)
        {
            int count = SlotsFor(entries[i].Length);
            int slot = AllocSlots(count);
            if (slot < 0)
            {
                for (int k = 0; k < i; k++)
                {
                    FreeSlots(pieces[k]);
                }

                throw new DmaSgException(DmaSgError.OutOfMemory,
                    $"{Name}: bounce buffer full: no {count} free contiguous slots for sg entry {i} of {sgt.Owner} ({_slotsInUse} of {SlotCount} slots in use)");
            }

            long offset = (long)slot * SlotSize;
            pieces[i] = new DevicePiece(PoolDmaBase + offset, (nint)(_pool + offset), entries[i].Length);
            segments[i] = new DmaSegment(PoolDmaBase + offset, entries[i].Length);
        }

        return new DmaMapping(sgt, dir, segments, pieces);
    }

    protected override void ReleaseMapping(DmaMapping mapping)
    {
        foreach (DevicePiece piece in mapping.Pieces)
        {
            FreeSlots(piece);
        }
    }

    protected override void AfterMap(DmaMapping mapping, DmaAttrs attrs) =>
        ToBounce(mapping, mapping.Pieces.Length);

    protected override void BeforeUnmap(DmaMapping mapping, int nents, DmaDirection dir, DmaAttrs attrs)
    {
        if ((attrs & DmaAttrs.SkipCpuSync) == 0 && dir.DeviceWrites())
        {
            ToCpu(mapping, nents);
        }
    }

    protected override void SyncForDevice(DmaMapping mapping, int nents, DmaDirection dir)
    {
        if (dir.DeviceReads())
        {
            ToBounce(mapping, nents);
        }
    }

    protected override void SyncForCpu(DmaMapping mapping, int nents, DmaDirection dir)
    {
        if (dir.DeviceWrites())
        {
            ToCpu(mapping, nents);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (_pool != null)
        {
            NativeMemory.AlignedFree(_pool);
            _pool = null;
        }
    }

    private static int SlotsFor(long length) => (int)((length + SlotSize - 1) / SlotSize);

    private static void ToBounce(DmaMapping mapping, int nents)
    {
        ReadOnlySpan<SgEntry> entries = mapping.Table.Entries;
        for (int i = 0; i < nents; i++)
        {
            Buffer.MemoryCopy((void*)entries[i].Cpu, (void*)mapping.Pieces[i].Target, entries[i].Length, entries[i].Length);
        }
    }

    private static void ToCpu(DmaMapping mapping, int nents)
    {
        ReadOnlySpan<SgEntry> entries = mapping.Table.Entries;
        for (int i = 0; i < nents; i++)
        {
            Buffer.MemoryCopy((void*)mapping.Pieces[i].Target, (void*)entries[i].Cpu, entries[i].Length, entries[i].Length);
        }
    }

    /// <summary>First fit from a rotating cursor (like swiotlb's index hint); a run never crosses a set. Under the lock.</summary>
    private int AllocSlots(int count)
    {
        int total = _slotUsed.Length;
        int i = _cursor;
        long scanned = 0;
        while (scanned < total)
        {
            int setEnd = Math.Min(((i / SlotsPerSet) + 1) * SlotsPerSet, total);
            if (i + count > setEnd)
            {
                scanned += setEnd - i;
                i = setEnd % total;
                continue;
            }

            int run = 0;
            while (run < count && !_slotUsed[i + run])
            {
                run++;
            }

            if (run == count)
            {
                for (int k = 0; k < count; k++)
                {
                    _slotUsed[i + k] = true;
                }

                _slotsInUse += count;
                _cursor = (i + count) % total;
                return i;
            }

            // Every start up to the used slot would include it.
            scanned += run + 1;
            i = (i + run + 1) % total;
        }

        return -1;
    }

    private void FreeSlots(DevicePiece piece)
    {
        int first = (int)((piece.DmaAddress - PoolDmaBase) / SlotSize);
        int count = SlotsFor(piece.Length);
        for (int k = first; k < first + count; k++)
        {
            if (!_slotUsed[k])
            {
                throw new InvalidOperationException($"{Name}: bounce slot {k} freed twice");
            }

            _slotUsed[k] = false;
        }

        _slotsInUse -= count;
    }
}
