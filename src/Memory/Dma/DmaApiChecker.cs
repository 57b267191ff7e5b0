using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Dma;

/// <summary>
/// CONFIG_DMA_API_DEBUG for any <see cref="IDmaDevice"/>: forwards every call to the real device and
/// keeps its own record of each mapping it forwarded (owner, orig_nents, nents, direction, length, DMA
/// segments), so it can name misuse the device itself would silently accept: unmap or sync of memory not
/// mapped, with another size, entry count or direction, syncs against the mapping's direction, device
/// access outside a mapping or against its direction, segments longer than the device supports, and
/// mappings left behind when the device is removed. Each is a <see cref="DmaApiViolation"/>.
/// </summary>
/// <remarks>
/// <para>In <see cref="DmaApiCheckerMode.Throw"/> mode a call with a violation is recorded, not forwarded,
/// and throws <see cref="DmaApiException"/>, so device and checker state stay as they were. In
/// <see cref="DmaApiCheckerMode.Record"/> mode the violation is recorded and the call is forwarded when it
/// concerns a live mapping of that very table (what a real device would do with it); calls about memory
/// that is not mapped (unmap, sync, device access) are dropped, since there is nothing to act on.
/// <see cref="Remove"/> always removes the device and then reports.</para>
/// <para>Sync checks follow kernel/dma/debug.c check_sync: direction checks are skipped for a
/// Bidirectional mapping; "ToDevice memory synced for the CPU" fires only when the sync direction is not
/// ToDevice (syncing a ToDevice mapping for the CPU with ToDevice is legal, vb2's finish() does it), and
/// likewise for FromDevice. Unlike the kernel, the entry-count check runs for Bidirectional mappings too:
/// syncing nents instead of orig_nents is a bug whatever the direction.</para>
/// <para>Thread-safe like the devices it wraps: its records sit behind a private lock; forwarded calls run
/// outside it.</para>
/// </remarks>
public sealed class DmaApiChecker : IDmaDevice, IDisposable
{
    private readonly Lock _lock = new();
    private readonly IDmaDevice _inner;
    private readonly bool _leaveInnerOpen;
    private readonly Dictionary<SgTable, DmaMappingRecord> _records = new(ReferenceEqualityComparer.Instance);
    private readonly List<DmaApiViolation> _violations = [];

    /// <param name="inner">The device to check.</param>
    /// <param name="mode">Throw (default) or Record.</param>
    /// <param name="leaveInnerOpen">When false, <see cref="Dispose"/> disposes <paramref name="inner"/> if it is disposable.</param>
    public DmaApiChecker(IDmaDevice inner, DmaApiCheckerMode mode = DmaApiCheckerMode.Throw, bool leaveInnerOpen = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        Mode = mode;
        _leaveInnerOpen = leaveInnerOpen;
    }

    public IDmaDevice Inner => _inner;

    public DmaApiCheckerMode Mode { get; }

    public string Name => _inner.Name;

    public long MaxSegmentSize => _inner.MaxSegmentSize;

    public long AddressLimit => _inner.AddressLimit;

    public int RefCount => _inner.RefCount;

    public bool IsRemoved => _inner.IsRemoved;

    /// <summary>Mappings this checker forwarded and has not seen unmapped.</summary>
    public int LiveMappings
    {
        get
        {
            lock (_lock)
            {
                return _records.Count;
            }
        }
    }

    /// <summary>Every violation reported so far (in both modes), oldest first; a snapshot.</summary>
    public IReadOnlyList<DmaApiViolation> Violations
    {
        get
        {
            lock (_lock)
            {
                return _violations.ToArray();
            }
        }
    }

    /// <summary>The live mappings as recorded at map time; a snapshot.</summary>
    public IReadOnlyList<DmaMappingRecord> Mappings
    {
        get
        {
            lock (_lock)
            {
                return _records.Values.ToArray();
            }
        }
    }

    /// <summary>Forgets the reported violations (the mapping records stay: they are the truth about the device).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _violations.Clear();
        }
    }

    public int MapSg(SgTable sgt, DmaDirection dir, DmaAttrs attrs = DmaAttrs.None)
    {
        ArgumentNullException.ThrowIfNull(sgt);
        List<DmaApiViolation>? found = null;
        long max = _inner.MaxSegmentSize;
        ReadOnlySpan<SgEntry> entries = sgt.Entries;
        for (int i = 0; i < entries.Length; i++)
        {
            if (entries[i].Length > max)
            {
                Add(ref found, DmaApiViolationKind.SegmentTooLong, sgt.Owner,
                    $"mapping sg segment longer than device claims to support [entry={i}] [len={entries[i].Length}] [max={max}]", null);
            }
        }

        Report(found);

        int nents = _inner.MapSg(sgt, dir, attrs);
        var record = new DmaMappingRecord(sgt, sgt.Owner, sgt.OrigNents, nents, dir, sgt.Length, sgt.Dma.ToArray());
        lock (_lock)
        {
            _records[sgt] = record;
        }

        return nents;
    }

    public void UnmapSg(SgTable sgt, int nents, DmaDirection dir, DmaAttrs attrs = DmaAttrs.None)
    {
        ArgumentNullException.ThrowIfNull(sgt);
        (DmaMappingRecord? record, bool sameTable) = Find(sgt);
        List<DmaApiViolation>? found = null;
        if (record is null)
        {
            Add(ref found, DmaApiViolationKind.NotMapped, sgt.Owner,
                $"device driver tries to free DMA memory it has not allocated [{Describe(sgt)}]", null);
        }
        else
        {
            string mapping = record.ToString();
            if (sgt.Length != record.Length)
            {
                Add(ref found, DmaApiViolationKind.UnmapSizeMismatch, record.Owner,
                    $"device driver frees DMA memory with different size [map size={record.Length} bytes] [unmap size={sgt.Length} bytes]", mapping);
            }

            if (nents != record.OrigNents)
            {
                Add(ref found, DmaApiViolationKind.UnmapNentsMismatch, record.Owner,
                    $"device driver frees DMA sg list with different entry count [map count={record.OrigNents}] [unmap count={nents}]", mapping);
            }

            if (dir != record.Direction)
            {
                Add(ref found, DmaApiViolationKind.UnmapDirectionMismatch, record.Owner,
                    $"device driver frees DMA memory with different direction [mapped as {record.Direction}] [unmapped as {dir}]", mapping);
            }
        }

        Report(found);
        if (!sameTable)
        {
            // Record mode, and this table is not the one mapped: nothing to undo.
            return;
        }

        lock (_lock)
        {
            // Forget it before the device frees the address space, which another thread may map next.
            _records.Remove(sgt);
        }

        try
        {
            _inner.UnmapSg(sgt, nents, dir, attrs);
        }
        catch
        {
            if (sgt.IsMapped)
            {
                lock (_lock)
                {
                    _records[sgt] = record!;
                }
            }

            throw;
        }
    }

    public void SyncSgForDevice(SgTable sgt, int nents, DmaDirection dir)
    {
        if (CheckSync(sgt, nents, dir, toCpu: false))
        {
            _inner.SyncSgForDevice(sgt, nents, dir);
        }
    }

    public void SyncSgForCpu(SgTable sgt, int nents, DmaDirection dir)
    {
        if (CheckSync(sgt, nents, dir, toCpu: true))
        {
            _inner.SyncSgForCpu(sgt, nents, dir);
        }
    }

    public void Read(long dmaAddress, Span<byte> destination)
    {
        if (CheckAccess(dmaAddress, destination.Length, write: false))
        {
            _inner.Read(dmaAddress, destination);
        }
    }

    public void Write(long dmaAddress, ReadOnlySpan<byte> source)
    {
        if (CheckAccess(dmaAddress, source.Length, write: true))
        {
            _inner.Write(dmaAddress, source);
        }
    }

    public void Get() => _inner.Get();

    public void Put() => _inner.Put();

    /// <summary>
    /// Removes the device, then reports PendingOnRemove when mappings are still live (in Throw mode by
    /// throwing; the device is removed either way). Returns the device's own report.
    /// </summary>
    public DeviceRemovalReport Remove()
    {
        DeviceRemovalReport report = _inner.Remove();
        DmaMappingRecord[] pending;
        lock (_lock)
        {
            pending = _records.Values.ToArray();
        }

        if (pending.Length > 0)
        {
            List<DmaApiViolation>? found = null;
            Add(ref found, DmaApiViolationKind.PendingOnRemove, string.Join(", ", pending.Select(r => r.Owner)),
                $"device driver has pending DMA allocations while released from device [count={pending.Length}]",
                string.Join("; ", pending.Select(r => r.ToString())));
            Report(found);
        }

        return report;
    }

    public void Dispose()
    {
        if (!_leaveInnerOpen && _inner is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    public override string ToString() => $"DmaApiChecker({_inner})";

    private static string Describe(SgTable sgt) =>
        sgt.IsMapped
            ? $"device address=0x{sgt.Dma[0].Address:x}] [size={sgt.Length} bytes"
            : $"table={sgt.Owner}, not mapped] [size={sgt.Length} bytes";

    /// <summary>Returns true when the sync should be forwarded.</summary>
    private bool CheckSync(SgTable sgt, int nents, DmaDirection dir, bool toCpu)
    {
        ArgumentNullException.ThrowIfNull(sgt);
        (DmaMappingRecord? record, bool sameTable) = Find(sgt);
        List<DmaApiViolation>? found = null;
        if (record is null)
        {
            Add(ref found, DmaApiViolationKind.SyncNotMapped, sgt.Owner,
                $"device driver tries to sync DMA memory it has not allocated [{Describe(sgt)}]", null);
            Report(found);
            return false;
        }

        string mapping = record.ToString();
        if (sgt.Length > record.Length)
        {
            Add(ref found, DmaApiViolationKind.SyncOutsideRange, record.Owner,
                $"device driver syncs DMA memory outside allocated range [allocation size={record.Length} bytes] [sync size={sgt.Length}]", mapping);
        }

        if (record.Direction != DmaDirection.Bidirectional)
        {
            if (dir != record.Direction)
            {
                Add(ref found, DmaApiViolationKind.SyncDirectionMismatch, record.Owner,
                    $"device driver syncs DMA memory with different direction [mapped with {record.Direction}] [synced with {dir}]", mapping);
            }

            if (toCpu && record.Direction != DmaDirection.FromDevice && dir != DmaDirection.ToDevice)
            {
                Add(ref found, DmaApiViolationKind.SyncForCpuOfToDevice, record.Owner,
                    $"device driver syncs device read-only DMA memory for cpu [mapped with {record.Direction}] [synced with {dir}]", mapping);
            }

            if (!toCpu && record.Direction != DmaDirection.ToDevice && dir != DmaDirection.FromDevice)
            {
                Add(ref found, DmaApiViolationKind.SyncForDeviceOfFromDevice, record.Owner,
                    $"device driver syncs device write-only DMA memory to device [mapped with {record.Direction}] [synced with {dir}]", mapping);
            }
        }

        if (nents != record.OrigNents)
        {
            Add(ref found, DmaApiViolationKind.SyncNentsMismatch, record.Owner,
                $"device driver syncs DMA sg list with different entry count [map count={record.OrigNents}] [sync count={nents}]" +
                (nents == record.Nents ? " (nents returned by map; sync needs orig_nents)" : string.Empty), mapping);
        }

        Report(found);
        return sameTable;
    }

    /// <summary>Returns true when the access should be forwarded.</summary>
    private bool CheckAccess(long address, int length, bool write)
    {
        if (length == 0)
        {
            return true;
        }

        long end = address + length;
        bool covered = false;
        DmaMappingRecord? against = null;
        lock (_lock)
        {
            foreach (DmaMappingRecord record in _records.Values)
            {
                if (!Covers(record.Segments, address, end))
                {
                    continue;
                }

                if (write ? record.Direction.DeviceWrites() : record.Direction.DeviceReads())
                {
                    return true;
                }

                covered = true;
                against ??= record;
            }
        }

        List<DmaApiViolation>? found = null;
        if (!covered)
        {
            Add(ref found, DmaApiViolationKind.AccessOutsideMapping, "(none)",
                $"device {(write ? "writes" : "reads")} DMA memory no live mapping covers [device address=0x{address:x}] [size={length} bytes]", null);
            Report(found);
            return false;
        }

        Add(ref found, DmaApiViolationKind.AccessAgainstDirection, against!.Owner,
            $"device {(write ? "writes" : "reads")} DMA memory mapped {against.Direction} [device address=0x{address:x}] [size={length} bytes]",
            against.ToString());
        Report(found);
        return true;
    }

    private static bool Covers(IReadOnlyList<DmaSegment> segments, long address, long end)
    {
        for (int i = 0; i < segments.Count; i++)
        {
            if (address < segments[i].Address || address >= segments[i].End)
            {
                continue;
            }

            int j = i;
            while (segments[j].End < end && j + 1 < segments.Count && segments[j + 1].Address == segments[j].End)
            {
                j++;
            }

            if (segments[j].End >= end)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The record for <paramref name="sgt"/>: by table first; else, like the kernel's lookup by device address,
    /// a live mapping whose first DMA address is the one this table claims (a stale or copied table).
    /// </summary>
    private (DmaMappingRecord? Record, bool SameTable) Find(SgTable sgt)
    {
        lock (_lock)
        {
            if (_records.TryGetValue(sgt, out DmaMappingRecord? record))
            {
                return (record, true);
            }

            if (sgt.IsMapped)
            {
                long address = sgt.Dma[0].Address;
                foreach (DmaMappingRecord r in _records.Values)
                {
                    if (r.Segments[0].Address == address)
                    {
                        return (r, false);
                    }
                }
            }

            return (null, false);
        }
    }

    private void Add(ref List<DmaApiViolation>? found, DmaApiViolationKind kind, string owner, string what, string? mapping)
    {
        found ??= [];
        found.Add(new DmaApiViolation(kind, Name, owner, $"DMA-API: {Name}: {owner}: {what}", mapping));
    }

    private void Report(List<DmaApiViolation>? found)
    {
        if (found is null)
        {
            return;
        }

        lock (_lock)
        {
            _violations.AddRange(found);
        }

        if (Mode == DmaApiCheckerMode.Throw)
        {
            throw new DmaApiException(found);
        }
    }
}
