namespace DmaSg.Memory.Dma;

/// <summary>
/// A first-fit allocator of I/O virtual address ranges in [start, end), granule-aligned, with
/// coalescing free. Not thread-safe: its <see cref="IommuDevice"/> calls it under its lock.
/// </summary>
internal sealed class IovaAllocator
{
    // Free ranges sorted by start, never adjacent (always coalesced).
    private readonly List<(long Start, long Length)> _free = [];

    public IovaAllocator(long start, long end, long granule)
    {
        if (granule <= 0 || (granule & (granule - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(granule), granule, "granule must be a power of two");
        }

        Granule = granule;
        Start = AlignUp(start);
        End = end & ~(granule - 1);
        if (End <= Start)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"IOVA space 0x{start:x}..0x{end:x} holds no {granule}-byte granule");
        }

        _free.Add((Start, End - Start));
    }

    public long Start { get; }

    public long End { get; }

    public long Granule { get; }

    public long BytesInUse { get; private set; }

    /// <summary>Free ranges, for tests: coalesced and sorted.</summary>
    public int FreeRangeCount => _free.Count;

    public long AlignUp(long size) => (size + Granule - 1) & ~(Granule - 1);

    /// <summary>Takes <paramref name="size"/> bytes (rounded up to the granule) at the lowest free address that fits.</summary>
    public bool TryAllocate(long size, out long address)
    {
        long len = AlignUp(size);
        for (int i = 0; i < _free.Count; i++)
        {
            (long start, long length) = _free[i];
            if (length < len)
            {
                continue;
            }

            address = start;
            if (length == len)
            {
                _free.RemoveAt(i);
            }
            else
            {
                _free[i] = (start + len, length - len);
            }

            BytesInUse += len;
            return true;
        }

        address = 0;
        return false;
    }

    /// <summary>Returns a range taken by <see cref="TryAllocate"/>; a double or partial free throws.</summary>
    public void Free(long address, long size)
    {
        long len = AlignUp(size);
        long end = address + len;
        if (address < Start || end > End || (address & (Granule - 1)) != 0)
        {
            throw new InvalidOperationException($"IOVA free of 0x{address:x}+{len} outside 0x{Start:x}..0x{End:x} or misaligned");
        }

        int i = 0;
        while (i < _free.Count && _free[i].Start < address)
        {
            i++;
        }

        bool overlapsPrev = i > 0 && _free[i - 1].Start + _free[i - 1].Length > address;
        bool overlapsNext = i < _free.Count && _free[i].Start < end;
        if (overlapsPrev || overlapsNext)
        {
            throw new InvalidOperationException($"IOVA 0x{address:x}+{len} is already free (double unmap?)");
        }

        bool mergePrev = i > 0 && _free[i - 1].Start + _free[i - 1].Length == address;
        bool mergeNext = i < _free.Count && _free[i].Start == end;
        if (mergePrev && mergeNext)
        {
            _free[i - 1] = (_free[i - 1].Start, _free[i - 1].Length + len + _free[i].Length);
            _free.RemoveAt(i);
        }
        else if (mergePrev)
        {
            _free[i - 1] = (_free[i - 1].Start, _free[i - 1].Length + len);
        }
        else if (mergeNext)
        {
            _free[i] = (address, len + _free[i].Length);
        }
        else
        {
            _free.Insert(i, (address, len));
        }

        BytesInUse -= len;
    }
}
