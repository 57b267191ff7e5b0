using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Buffers;

/// <summary>
/// vb2_dma_sg_buf: one buffer of arena pages (the MMAP memory model), of pinned caller pages (USERPTR), or
/// one kernel dmabuf from a dma-heap (the dma-heap backend: <see cref="FromDmabuf"/>),
/// its sg table mapped for one device, a lazy contiguous CPU view, and a refcount. Single-threaded: the
/// buffer's actor owns it. The arena is only read from here (its fd, page addresses), except in
/// <see cref="Allocate"/>, which runs where the arena lives; freed pages go home through the
/// <c>returnPages</c> delegate.
/// </summary>
public sealed class SgBuffer
{
    private readonly PageArena? _arena;
    private readonly int[] _pages;
    private readonly UserPages? _user;
    private readonly HeapMemory? _heap;
    private readonly SgTable _sgt;
    private readonly Action<int[]>? _returnPages;
    private VirtualMapping? _vaddr;
    private int _refcount = 1;
    private nint[] _dirtyPages = [];

    private SgBuffer(IDmaDevice device, DmaDirection direction, string name, SgTable sgt, long size, int numPages,
        PageArena? arena, int[] pages, Action<int[]>? returnPages, UserPages? user, HeapMemory? heap = null)
    {
        Device = device;
        Direction = direction;
        Name = name;
        _sgt = sgt;
        Size = size;
        NumPages = numPages;
        _arena = arena;
        _pages = pages;
        _returnPages = returnPages;
        _user = user;
        _heap = heap;
        PageSize = arena?.PageSize ?? user?.PageSize ?? heap!.PageSize;
    }

    public IDmaDevice Device { get; }

    public DmaDirection Direction { get; }

    /// <summary>Shown in DMA-API reports; the sg table's owner.</summary>
    public string Name { get; }

    /// <summary>Bytes: whole pages for an allocated buffer, the caller's length for USERPTR.</summary>
    public long Size { get; }

    public int NumPages { get; }

    public int PageSize { get; }

    /// <summary>Where the data starts in the first page (non-zero only for an unaligned USERPTR).</summary>
    public int Offset => _user?.Offset ?? 0;

    public bool IsUserptr => _user is not null;

    /// <summary>
    /// The kernel dmabuf this buffer is (dma-heap backend), or null for arena and USERPTR buffers. Its pages are
    /// the kernel's: the sg table is one CPU-visible range, the dmabuf's mmap.
    /// </summary>
    public ExportedBuffer? Dmabuf => _heap?.Buffer;

    /// <summary>refcount_read: the refs still held.</summary>
    public int NumUsers => _refcount;

    public bool IsReleased { get; private set; }

    /// <summary>The pin of a USERPTR buffer (null for allocated buffers).</summary>
    public UserPages? UserPages => _user;

    /// <summary>Pages marked dirty when a USERPTR buffer was released (FromDevice, Bidirectional).</summary>
    public IReadOnlyList<nint> DirtyPages => _dirtyPages;

    /// <summary>True while a cached vaddr mapping exists.</summary>
    public bool HasVaddr => _vaddr is not null;

    /// <summary>The sg table (CPU entries and, while mapped, the DMA segments).</summary>
    public SgTable SgTable
    {
        get
        {
            ThrowIfReleased();
            return _sgt;
        }
    }

    /// <summary>The cookie memop: the mapped table a driver programs into its DMA engine.</summary>
    public SgTable Cookie => SgTable;

    /// <summary>The arena pages, in buffer order (empty for USERPTR).</summary>
    public ReadOnlySpan<int> Pages
    {
        get
        {
            ThrowIfReleased();
            return _pages;
        }
    }

    /// <summary>
    /// vb2_dma_sg_alloc: <paramref name="size"/> bytes of arena pages (rounded up to pages), compacted,
    /// in an sg table whose segments respect the device's limit, mapped without a sync (prepare does
    /// it). Any failure undoes everything: nothing mapped, pages back in the arena, device put.
    /// </summary>
    /// <param name="returnPages">How the last <see cref="Put"/> sends pages home; default frees them into <paramref name="arena"/>.</param>
    public static SgBuffer Allocate(PageArena arena, IDmaDevice device, long size, DmaDirection dir, string name,
        Action<int[]>? returnPages = null)
    {
        if (arena is null)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, "no arena");
        }

        if (device is null)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, "no device");
        }

        ArgumentNullException.ThrowIfNull(name);
        dir.ThrowIfInvalidForMapping();
        int pageCount = Sizes.PageCount(size, arena.PageSize);
        long alignedSize = (long)pageCount * arena.PageSize;

        device.Get();
        int[]? pages = null;
        try
        {
            pages = CompactedAllocation.Allocate(arena, pageCount);
            var sgt = SgTable.FromArenaPages(arena, pages, 0, alignedSize, device.MaxSegmentSize, name);
            device.MapSg(sgt, dir, DmaAttrs.SkipCpuSync);
            return new SgBuffer(device, dir, name, sgt, alignedSize, pageCount, arena, pages,
                returnPages ?? (p => arena.FreePageList(p)), user: null);
        }
        catch
        {
            // Allocate runs where the arena lives, so a rollback frees directly: the arena is whole
            // again when this throws, even when returnPages would send the pages home asynchronously.
            if (pages is not null)
            {
                arena.FreePageList(pages);
            }

            device.Put();
            throw;
        }
    }

    /// <summary>vb2_dma_sg_get_userptr over native memory the caller keeps mapped until <see cref="PutUserptr"/>.</summary>
    public static SgBuffer GetUserptr(IDmaDevice device, nint address, long length, DmaDirection dir, string name) =>
        GetUserptr(device, dir, name, () => Buffers.UserPages.Pin(address, length, dir));

    /// <summary>vb2_dma_sg_get_userptr over managed memory, pinned until release.</summary>
    public static SgBuffer GetUserptr(IDmaDevice device, Memory<byte> memory, DmaDirection dir, string name) =>
        GetUserptr(device, dir, name, () => Buffers.UserPages.Pin(memory, dir));

    /// <summary>vb2_dma_sg_get_userptr over read-only memory: ToDevice only (e2fc6edd37ba).</summary>
    public static SgBuffer GetUserptr(IDmaDevice device, ReadOnlyMemory<byte> memory, DmaDirection dir, string name) =>
        GetUserptr(device, dir, name, () => Buffers.UserPages.Pin(memory, dir));

    /// <summary>
    /// The dma-heap backend's alloc: a buffer that is one kernel dmabuf (from /dev/dma_heap/NAME), CPU-mapped by
    /// mmap of its fd, its sg table that single CPU-visible range (the kernel never shows user space how the
    /// heap's pages are scattered), mapped for <paramref name="device"/> without a sync. Takes ownership of
    /// <paramref name="dmabuf"/>: it is closed when the buffer is freed, or at once if this fails.
    /// prepare/finish add DMA_BUF_IOCTL_SYNC END/START to the device syncs.
    /// </summary>
    public static SgBuffer FromDmabuf(ExportedBuffer dmabuf, IDmaDevice device, DmaDirection dir, string name)
    {
        ArgumentNullException.ThrowIfNull(dmabuf);
        HeapMemory? heap = null;
        bool gotDevice = false;
        try
        {
            if (device is null)
            {
                throw new DmaSgException(DmaSgError.InvalidArgument, "no device");
            }

            ArgumentNullException.ThrowIfNull(name);
            dir.ThrowIfInvalidForMapping();
            device.Get();
            gotDevice = true;
            heap = HeapMemory.Map(dmabuf);

            // The buffer starts in the CPU's hands: open the bracket that the first prepare (SYNC END) closes.
            heap.Sync(end: false, dir);
            var sgt = SgTable.FromUserPages(heap.Mapping.Address, heap.PageCount, heap.PageSize, 0, dmabuf.Size, device.MaxSegmentSize, name);
            device.MapSg(sgt, dir, DmaAttrs.SkipCpuSync);
            return new SgBuffer(device, dir, name, sgt, dmabuf.Size, heap.PageCount, arena: null, pages: [], returnPages: null, user: null, heap);
        }
        catch
        {
            if (heap is not null)
            {
                heap.Dispose();
            }
            else
            {
                dmabuf.Dispose();
            }

            if (gotDevice)
            {
                device.Put();
            }

            throw;
        }
    }

    /// <summary>Takes a ref (an mmap, an exported dmabuf, another holder).</summary>
    public void AddRef()
    {
        ThrowIfReleased();
        if (_refcount == int.MaxValue)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{Name}: refcount saturated");
        }

        _refcount++;
    }

    /// <summary>
    /// vb2_dma_sg_put: drops a ref; the last one unmaps (skipping the sync, over orig_nents), drops the
    /// vaddr, frees the table, sends the pages home (or unpins USERPTR pages) and puts the device.
    /// Returns true when this call freed the buffer.
    /// </summary>
    public bool Put()
    {
        ThrowIfReleased();
        if (--_refcount > 0)
        {
            return false;
        }

        Release();
        return true;
    }

    /// <summary>
    /// vb2_dma_sg_put_userptr: drops the caller's ref on a USERPTR buffer; when it was the last, releases
    /// it and returns the pages marked dirty (all of them for FromDevice and Bidirectional, none for
    /// ToDevice). Returns nothing while other refs remain.
    /// </summary>
    public IReadOnlyList<nint> PutUserptr()
    {
        ThrowIfReleased();
        if (_user is null)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{Name} is not a USERPTR buffer");
        }

        return Put() ? _dirtyPages : [];
    }

    /// <summary>prepare: dma_sync_sg_for_device over orig_nents, before the device touches the buffer.</summary>
    public void Prepare()
    {
        ThrowIfReleased();
        _heap?.Sync(end: true, Direction);
        Device.SyncSgForDevice(_sgt, _sgt.OrigNents, Direction);
    }

    /// <summary>finish: dma_sync_sg_for_cpu over orig_nents (a704a3c503ae: never nents), before the CPU reads.</summary>
    public void Finish()
    {
        ThrowIfReleased();
        Device.SyncSgForCpu(_sgt, _sgt.OrigNents, Direction);
        _heap?.Sync(end: false, Direction);
    }

    /// <summary>
    /// vaddr: the buffer as one contiguous CPU range, plus the USERPTR offset. Arena pages are mapped on
    /// first use and the mapping is cached until the buffer is freed; USERPTR memory is already
    /// contiguous, so its vaddr is the caller's address.
    /// </summary>
    public nint Vaddr()
    {
        ThrowIfReleased();
        if (_user is not null)
        {
            return _user.Address;
        }

        if (_heap is not null)
        {
            return _heap.Mapping.Address;
        }

        _vaddr ??= VirtualMapping.Map(_arena!, _pages);
        return _vaddr.Address;
    }

    /// <summary>
    /// kmap of page <paramref name="pgnum"/>: bounds-checked (the seed's was not) and valid without an
    /// earlier <see cref="Vaddr"/> (the seed's returned NULL then).
    /// </summary>
    public nint Kmap(int pgnum)
    {
        ThrowIfReleased();
        if ((uint)pgnum >= (uint)NumPages)
        {
            throw new DmaSgException(DmaSgError.Fault, $"{Name}: page {pgnum} is outside 0..{NumPages - 1}");
        }

        if (_user is not null)
        {
            return _user.PageAddress(pgnum);
        }

        if (_heap is not null)
        {
            return _heap.Mapping.Address + (nint)((long)pgnum * PageSize);
        }

        return _vaddr is not null
            ? _vaddr.Address + (nint)((long)pgnum * PageSize)
            : _arena!.AddressOf(_pages[pgnum]);
    }

    /// <summary>
    /// mmap: maps the first <paramref name="length"/> bytes (whole pages) for the caller and takes a ref
    /// that the returned mapping drops when disposed. A length above the buffer is InvalidArgument;
    /// USERPTR buffers are not mmapped (the caller already has them).
    /// </summary>
    public UserMapping Mmap(long length)
    {
        ThrowIfReleased();
        if (_user is not null)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{Name}: a USERPTR buffer cannot be mmapped");
        }

        if (length <= 0 || length > Size)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{Name}: cannot map {length} bytes of a {Size}-byte buffer");
        }

        int pages = (int)((length + PageSize - 1) / PageSize);
        AddRef();
        try
        {
            VirtualMapping mapping = _heap is not null
                ? VirtualMapping.OfFd(_heap.Buffer.Fd, (long)pages * PageSize)
                : VirtualMapping.Map(_arena!, _pages.AsSpan(0, pages));
            return new UserMapping(this, mapping, length);
        }
        catch
        {
            // Our own ref keeps the count above zero, so this never frees the buffer.
            _refcount--;
            throw;
        }
    }

    /// <summary>CPU write of <paramref name="source"/> at byte <paramref name="offset"/> of the buffer (Fault outside it).</summary>
    public void CopyFromCpu(long offset, ReadOnlySpan<byte> source)
    {
        ThrowIfReleased();
        CheckRange(offset, source.Length);
        if (_user is { IsWritable: false })
        {
            throw new DmaSgException(DmaSgError.Fault, $"{Name}: the user memory is read-only");
        }

        Copy(offset, MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(source), source.Length), toBuffer: true);
    }

    /// <summary>CPU read into <paramref name="destination"/> from byte <paramref name="offset"/> of the buffer (Fault outside it).</summary>
    public void CopyToCpu(long offset, Span<byte> destination)
    {
        ThrowIfReleased();
        CheckRange(offset, destination.Length);
        Copy(offset, destination, toBuffer: false);
    }

    public override string ToString() =>
        $"{Name}: {(IsUserptr ? "userptr" : "mmap")} {Size} bytes, {NumPages} pages, {Direction}, refs {_refcount}{(IsReleased ? ", released" : "")}";

    private static SgBuffer GetUserptr(IDmaDevice device, DmaDirection dir, string name, Func<UserPages> pin)
    {
        if (device is null)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, "no device");
        }

        ArgumentNullException.ThrowIfNull(name);
        dir.ThrowIfInvalidForMapping();
        device.Get();
        UserPages? user = null;
        try
        {
            user = pin();
            var sgt = SgTable.FromUserPages(user.PageAlignedStart, user.PageCount, user.PageSize, user.Offset,
                user.Length, device.MaxSegmentSize, name);
            device.MapSg(sgt, dir, DmaAttrs.SkipCpuSync);
            return new SgBuffer(device, dir, name, sgt, user.Length, user.PageCount, arena: null, pages: [],
                returnPages: null, user);
        }
        catch
        {
            user?.Release();
            device.Put();
            throw;
        }
    }

    private void Release()
    {
        IsReleased = true;
        ExceptionDispatchInfo? first = null;

        // Every step runs even if an earlier one throws (a checker report), so nothing leaks.
        void Step(Action action)
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                first ??= ExceptionDispatchInfo.Capture(e);
            }
        }

        Step(() => Device.UnmapSg(_sgt, _sgt.OrigNents, Direction, DmaAttrs.SkipCpuSync));
        Step(() =>
        {
            _vaddr?.Dispose();
            _vaddr = null;
        });
        if (_user is not null)
        {
            Step(() => _dirtyPages = _user.Release());
        }
        else if (_heap is not null)
        {
            // The kernel frees the heap's pages once no fd or mapping of the dmabuf is left.
            Step(_heap.Dispose);
        }
        else
        {
            Step(() => _returnPages!(_pages));
        }

        Step(Device.Put);
        first?.Throw();
    }

    private void CheckRange(long offset, int count)
    {
        if (offset < 0 || offset > Size || count > Size - offset)
        {
            throw new DmaSgException(DmaSgError.Fault, $"{Name}: {count} bytes at {offset} are outside the {Size}-byte buffer");
        }
    }

    // Walks the CPU entries of the sg table, which cover exactly Size bytes from the buffer's first byte.
    private unsafe void Copy(long offset, Span<byte> cpu, bool toBuffer)
    {
        int done = 0;
        long entryStart = 0;
        foreach (var e in _sgt.Entries)
        {
            if (done == cpu.Length)
            {
                break;
            }

            long entryEnd = entryStart + e.Length;
            if (offset < entryEnd)
            {
                long inEntry = offset - entryStart;
                int n = (int)Math.Min(e.Length - inEntry, cpu.Length - done);
                var chunk = new Span<byte>((byte*)e.Cpu + inEntry, n);
                if (toBuffer)
                {
                    cpu.Slice(done, n).CopyTo(chunk);
                }
                else
                {
                    chunk.CopyTo(cpu.Slice(done, n));
                }

                done += n;
                offset += n;
            }

            entryStart = entryEnd;
        }
    }

    private void ThrowIfReleased()
    {
        if (IsReleased)
        {
            throw new DmaSgException(DmaSgError.UseAfterRelease, $"{Name} was already freed");
        }
    }
}
