using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Dma;

/// <summary>
/// The parts every device model shares: identity, limits, get/put refcount, removal, the registry of
/// live mappings (keyed by the <see cref="SgTable"/> instance) and the translation of a DMA address
/// range into the memory the device touches for <see cref="Read"/>/<see cref="Write"/>.
/// </summary>
/// <remarks>
/// Thread safety: everything else in DmaSg.Memory belongs to one actor and has no locks, but a device
/// is shared by many buffers, each owned by a different actor running on its own thread. So a device
/// guards its tables (mapping registry, refcount, removal flag, and the model's IOVA allocator or bounce
/// slots) with one private lock. Critical sections only look up and update those tables; byte copies
/// (bounce copies, device Read/Write) run outside the lock. They touch memory that stays valid while
/// the arena and the device live, and racing them against an unmap of the same table is the caller's
/// bug, exactly as for real DMA. Calls for one SgTable come from its owner only, one at a time.
/// </remarks>
public abstract unsafe class DmaDevice : IDmaDevice, IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<SgTable, DmaMapping> _mappings = new(ReferenceEqualityComparer.Instance);
    private int _refCount;
    private bool _removed;
    private bool _disposed;

    protected DmaDevice(string name, long maxSegmentSize, long addressLimit)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (maxSegmentSize <= 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{name}: max segment size {maxSegmentSize} must be positive");
        }

        if (addressLimit <= 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{name}: address limit {addressLimit} must be positive");
        }

        Name = name;
        MaxSegmentSize = maxSegmentSize;
        AddressLimit = addressLimit;
    }

    public string Name { get; }

    public long MaxSegmentSize { get; }

    public long AddressLimit { get; }

    public int RefCount
    {
        get
        {
            lock (_lock)
            {
                return _refCount;
            }
        }
    }

    public int LiveMappings
    {
        get
        {
            lock (_lock)
            {
                return _mappings.Count;
            }
        }
    }

    public bool IsRemoved
    {
        get
        {
            lock (_lock)
            {
                return _removed;
            }
        }
    }

    /// <summary>Owners of the tables mapped right now.</summary>
    public IReadOnlyList<string> MappingOwners()
    {
        lock (_lock)
        {
            return _mappings.Values.Select(m => m.Owner).ToArray();
        }
    }

    public int MapSg(SgTable sgt, DmaDirection dir, DmaAttrs attrs = DmaAttrs.None)
    {
        ArgumentNullException.ThrowIfNull(sgt);
        ThrowIfInvalidDirection(dir);
        if (sgt.IsMapped)
        {
            // An SgTable holds one DMA view; each importer maps its own Clone().
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{Name}: {sgt} is already mapped");
        }

        ReadOnlySpan<SgEntry> entries = sgt.Entries;
        for (int i = 0; i < entries.Length; i++)
        {
            CheckSegment(sgt, i, entries[i]);
        }

        DmaMapping mapping;
        lock (_lock)
        {
            ThrowIfDisposed();
            if (_removed)
            {
                throw new DmaSgException(DmaSgError.DeviceGone, $"{Name} was removed; cannot map {sgt.Owner}");
            }

            if (_mappings.ContainsKey(sgt))
            {
                throw new DmaSgException(DmaSgError.InvalidArgument, $"{Name}: {sgt} is already mapped");
            }

            mapping = AllocateMapping(sgt, dir);
            foreach (DmaSegment seg in mapping.Segments)
            {
                if (seg.Address < 0 || seg.End > AddressLimit)
                {
                    ReleaseMapping(mapping);
                    throw new DmaSgException(DmaSgError.Io,
                        $"{Name}: DMA address range 0x{seg.Address:x}+{seg.Length} of {sgt.Owner} is beyond the device's limit 0x{AddressLimit:x}");
                }
            }

            _mappings.Add(sgt, mapping);
        }

        try
        {
            AfterMap(mapping, attrs);
        }
        catch
        {
            lock (_lock)
            {
                _mappings.Remove(sgt);
                ReleaseMapping(mapping);
            }

            throw;
        }

        sgt.SetDmaMapping(mapping.Segments);
        return mapping.Segments.Length;
    }

    public void UnmapSg(SgTable sgt, int nents, DmaDirection dir, DmaAttrs attrs = DmaAttrs.None)
    {
        ArgumentNullException.ThrowIfNull(sgt);
        ThrowIfInvalidDirection(dir);
        DmaMapping mapping;
        lock (_lock)
        {
            mapping = FindLocked(sgt, nents, "unmap");

            // Out of the registry first: from here on no device access can find this mapping.
            _mappings.Remove(sgt);
        }

        try
        {
            BeforeUnmap(mapping, nents, dir, attrs);
        }
        finally
        {
            lock (_lock)
            {
                if (!_disposed)
                {
                    ReleaseMapping(mapping);
                }
            }

            sgt.ClearDmaMapping();
        }
    }

    public void SyncSgForDevice(SgTable sgt, int nents, DmaDirection dir)
    {
        ArgumentNullException.ThrowIfNull(sgt);
        ThrowIfInvalidDirection(dir);
        DmaMapping mapping;
        lock (_lock)
        {
            mapping = FindLocked(sgt, nents, "sync for device");
        }

        SyncForDevice(mapping, nents, dir);
    }

    public void SyncSgForCpu(SgTable sgt, int nents, DmaDirection dir)
    {
        ArgumentNullException.ThrowIfNull(sgt);
        ThrowIfInvalidDirection(dir);
        DmaMapping mapping;
        lock (_lock)
        {
            mapping = FindLocked(sgt, nents, "sync for cpu");
        }

        SyncForCpu(mapping, nents, dir);
    }

    public void Read(long dmaAddress, Span<byte> destination)
    {
        if (destination.IsEmpty)
        {
            return;
        }

        (DevicePiece[] pieces, int first) = Translate(dmaAddress, destination.Length);
        long address = dmaAddress;
        int done = 0;
        for (int i = first; done < destination.Length; i++)
        {
            DevicePiece p = pieces[i];
            long offset = address - p.DmaAddress;
            int n = (int)Math.Min(p.Length - offset, destination.Length - done);
            new ReadOnlySpan<byte>((byte*)p.Target + offset, n).CopyTo(destination.Slice(done, n));
            done += n;
            address += n;
        }
    }

    public void Write(long dmaAddress, ReadOnlySpan<byte> source)
    {
        if (source.IsEmpty)
        {
            return;
        }

        (DevicePiece[] pieces, int first) = Translate(dmaAddress, source.Length);
        long address = dmaAddress;
        int done = 0;
        for (int i = first; done < source.Length; i++)
        {
            DevicePiece p = pieces[i];
            long offset = address - p.DmaAddress;
            int n = (int)Math.Min(p.Length - offset, source.Length - done);
            source.Slice(done, n).CopyTo(new Span<byte>((byte*)p.Target + offset, n));
            done += n;
            address += n;
        }
    }

    public void Get()
    {
        lock (_lock)
        {
            if (_removed)
            {
                throw new DmaSgException(DmaSgError.DeviceGone, $"{Name} was removed; no new references");
            }

            _refCount++;
        }
    }

    public void Put()
    {
        lock (_lock)
        {
            if (_refCount == 0)
            {
                throw new InvalidOperationException($"{Name}: put_device without a matching get_device");
            }

            _refCount--;
        }
    }

    public DeviceRemovalReport Remove()
    {
        lock (_lock)
        {
            _removed = true;
            return new DeviceRemovalReport(Name, _refCount, _mappings.Count, _mappings.Values.Select(m => m.Owner).ToArray());
        }
    }

    /// <summary>
    /// Frees what the device owns (the bounce pool). Call it only once every buffer has put the device:
    /// a device access still in flight on another thread would touch freed memory.
    /// </summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _removed = true;
            _mappings.Clear();
        }

        Dispose(true);
        GC.SuppressFinalize(this);
    }

    public override string ToString() => $"{GetType().Name}({Name})";

    /// <summary>Reads model state (allocator counters) under the device lock.</summary>
    protected T WithLock<T>(Func<T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        lock (_lock)
        {
            return read();
        }
    }

    /// <summary>Releases model resources; called once, after the registry was emptied.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>
    /// Rejects an entry the device cannot map before anything is allocated. The default fails an entry
    /// longer than <see cref="MaxSegmentSize"/> with InvalidArgument.
    /// </summary>
    protected virtual void CheckSegment(SgTable sgt, int index, SgEntry entry)
    {
        if (entry.Length > MaxSegmentSize)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument,
                $"{Name}: sg entry {index} of {sgt.Owner} is {entry.Length} bytes, longer than the device's max segment of {MaxSegmentSize} bytes");
        }
    }

    /// <summary>
    /// Gives each CPU entry its DMA address (one <see cref="DevicePiece"/> per entry, in order) and builds the
    /// DMA segments. Runs under the device lock: allocate address space, copy nothing. Throws
    /// <see cref="DmaSgException"/> with nothing allocated on failure.
    /// </summary>
    protected abstract DmaMapping AllocateMapping(SgTable sgt, DmaDirection dir);

    /// <summary>Frees what <see cref="AllocateMapping"/> took. Runs under the device lock.</summary>
    protected abstract void ReleaseMapping(DmaMapping mapping);

    /// <summary>After a successful allocation, outside the lock (the bounce copy).</summary>
    protected virtual void AfterMap(DmaMapping mapping, DmaAttrs attrs)
    {
    }

    /// <summary>Before the mapping's address space is freed, outside the lock (the bounce copy-back).</summary>
    protected virtual void BeforeUnmap(DmaMapping mapping, int nents, DmaDirection dir, DmaAttrs attrs)
    {
    }

    /// <summary>dma_sync_sg_for_device over the first <paramref name="nents"/> entries, outside the lock.</summary>
    protected virtual void SyncForDevice(DmaMapping mapping, int nents, DmaDirection dir)
    {
    }

    /// <summary>dma_sync_sg_for_cpu over the first <paramref name="nents"/> entries, outside the lock.</summary>
    protected virtual void SyncForCpu(DmaMapping mapping, int nents, DmaDirection dir)
    {
    }

    private void ThrowIfInvalidDirection(DmaDirection dir)
    {
        if (!dir.IsValidForMapping())
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{Name}: direction {dir} is not valid for DMA");
        }
    }

    private DmaMapping FindLocked(SgTable sgt, int nents, string op)
    {
        ThrowIfDisposed();
        if (!_mappings.TryGetValue(sgt, out DmaMapping? mapping))
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{Name}: {op} of {sgt}, which is not mapped on this device");
        }

        if (nents < 1 || nents > sgt.OrigNents)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{Name}: {op} of {sgt.Owner} with {nents} entries; the table has {sgt.OrigNents}");
        }

        return mapping;
    }

    /// <summary>
    /// Finds the mapping whose DMA-contiguous pieces cover [address, address + length) and the piece holding
    /// <paramref name="address"/>. Fault when no single mapping covers the whole range.
    /// </summary>
    private (DevicePiece[] Pieces, int First) Translate(long address, int length)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            long end = address + length;
            foreach (DmaMapping mapping in _mappings.Values)
            {
                if (address < mapping.DmaStart || end > mapping.DmaEnd)
                {
                    continue;
                }

                DevicePiece[] pieces = mapping.Pieces;
                for (int i = 0; i < pieces.Length; i++)
                {
                    if (address < pieces[i].DmaAddress || address >= pieces[i].DmaEnd)
                    {
                        continue;
                    }

                    // Walk on while the next piece continues the DMA range.
                    int j = i;
                    while (pieces[j].DmaEnd < end && j + 1 < pieces.Length && pieces[j + 1].DmaAddress == pieces[j].DmaEnd)
                    {
                        j++;
                    }

                    if (pieces[j].DmaEnd >= end)
                    {
                        return (pieces, i);
                    }
                }
            }
        }

        throw new DmaSgException(DmaSgError.Fault, $"{Name}: device access at 0x{address:x}+{length} is outside every mapping");
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Where the device's bytes for one CPU entry live: a DMA address range and the memory behind it.</summary>
    protected readonly record struct DevicePiece(long DmaAddress, nint Target, long Length)
    {
        public long DmaEnd => DmaAddress + Length;
    }

    /// <summary>One live mapping: pieces (one per CPU entry, in order) and the DMA segments handed to the table.</summary>
    protected sealed class DmaMapping(SgTable table, DmaDirection direction, DmaSegment[] segments, DevicePiece[] pieces)
    {
        public SgTable Table { get; } = table;

        /// <summary>The owner when mapped, for reports.</summary>
        public string Owner { get; } = table.Owner;

        public DmaDirection Direction { get; } = direction;

        public DmaSegment[] Segments { get; } = segments;

        public DevicePiece[] Pieces { get; } = pieces;

        /// <summary>Lowest DMA address of any piece: lets a device access skip mappings far away.</summary>
        public long DmaStart { get; } = pieces.Min(p => p.DmaAddress);

        /// <summary>One past the highest DMA address of any piece.</summary>
        public long DmaEnd { get; } = pieces.Max(p => p.DmaEnd);
    }
}
