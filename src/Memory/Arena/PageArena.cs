using System.Numerics;
using System.Runtime.InteropServices;
using DmaSg.Interop;
using DmaSg.Interop.Linux;

namespace DmaSg.Memory.Arena;

/// <summary>
/// The page allocator: a memfd of N pages mapped once, handed out in buddy blocks. A page is an
/// index into the memfd (the <c>struct page *</c> analog); "physically contiguous" means
/// consecutive indices. Single-threaded: one actor owns an arena, so there are no locks here.
/// </summary>
public sealed unsafe class PageArena : IDisposable
{
    private const sbyte NotFree = -1;
    private const sbyte NotAllocated = -1;
    private const sbyte CompoundTail = -2;

    private readonly SafeFd _fd;
    private readonly SafeMapping _mapping;
    private readonly byte* _base;

    // Buddy free lists: one doubly linked list per order, threaded through the head page of each block.
    private readonly int[] _freeHead;
    private readonly int[] _freeCount;
    private readonly int[] _next;
    private readonly int[] _prev;

    // _freeOrder[p] = order when p heads a free block, else NotFree.
    private readonly sbyte[] _freeOrder;

    // _allocOrder[p] = order when p heads an allocated block (0 after split_page), CompoundTail inside
    // an unsplit allocated block, NotAllocated otherwise.
    private readonly sbyte[] _allocOrder;

    // Pages handed out since they were last known to be zero. Fresh memfd pages read as zero, so only
    // these need a memset before they are handed out again.
    private readonly ulong[] _dirty;

    private long _freePages;
    private bool _disposed;

    public PageArena(PageArenaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        PageSize = Environment.SystemPageSize;
        PageShift = BitOperations.Log2((uint)PageSize);
        if (options.MaxOrder is < 0 or > 20)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"max order {options.MaxOrder} is outside 0..20");
        }

        long pages = options.ArenaSize >> PageShift;
        if (options.ArenaSize <= 0 || pages < 1 || pages > int.MaxValue)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"arena size {options.ArenaSize} must be 1 page to {(long)int.MaxValue << PageShift} bytes");
        }

        MaxOrder = options.MaxOrder;
        Zero = options.Zero;
        TotalPages = (int)pages;
        Name = options.Name;

        _freeHead = new int[MaxOrder + 1];
        _freeCount = new int[MaxOrder + 1];
        Array.Fill(_freeHead, -1);
        _next = new int[TotalPages];
        _prev = new int[TotalPages];
        _freeOrder = new sbyte[TotalPages];
        _allocOrder = new sbyte[TotalPages];
        Array.Fill(_freeOrder, NotFree);
        Array.Fill(_allocOrder, NotAllocated);
        _dirty = new ulong[(TotalPages + 63) / 64];

        _fd = Syscall.MemfdCreate(options.Name, MemfdFlags.Cloexec | MemfdFlags.AllowSealing);
        try
        {
            Syscall.Ftruncate(_fd, SizeInBytes);
            // udmabuf requires F_SEAL_SHRINK (pages must not vanish under a dmabuf) and refuses F_SEAL_WRITE.
            Syscall.AddSeals(_fd, SealFlags.Shrink);
            _mapping = Syscall.Mmap((nuint)SizeInBytes, Protection.ReadWrite, MapFlags.Shared, _fd, 0);
        }
        catch
        {
            _fd.Dispose();
            throw;
        }

        _base = (byte*)_mapping.Address;

        // Carve the arena into the largest aligned blocks that fit. They are pushed from the top down so
        // each list hands out its lowest block first: on a fresh arena a compacted buffer's blocks then
        // follow each other and its sg table is one segment, whatever the number of max-order blocks.
        var blocks = new List<(int Page, int Order)>();
        int page = 0;
        while (page < TotalPages)
        {
            int order = MaxOrder;
            while (order > 0 && (((page & ((1 << order) - 1)) != 0) || page + (1 << order) > TotalPages))
            {
                order--;
            }

            blocks.Add((page, order));
            page += 1 << order;
        }

        for (int i = blocks.Count - 1; i >= 0; i--)
        {
            Push(blocks[i].Page, blocks[i].Order);
            _freePages += 1L << blocks[i].Order;
        }
    }

    public string Name { get; }

    /// <summary>The OS page size in bytes.</summary>
    public int PageSize { get; }

    public int PageShift { get; }

    public int MaxOrder { get; }

    public ZeroStrategy Zero { get; }

    public int TotalPages { get; }

    public long SizeInBytes => (long)TotalPages << PageShift;

    /// <summary>Pages on the free lists.</summary>
    public long FreePageCount => _freePages;

    /// <summary>Pages handed out and not yet freed.</summary>
    public long AllocatedPageCount => TotalPages - _freePages;

    /// <summary>The largest order with a free block, or -1 when the arena is full.</summary>
    public int LargestFreeOrder
    {
        get
        {
            for (int o = MaxOrder; o >= 0; o--)
            {
                if (_freeCount[o] > 0)
                {
                    return o;
                }
            }

            return -1;
        }
    }

    /// <summary>Pages zeroed by memset so far (a counter for benchmarks and tests).</summary>
    public long PagesZeroed { get; private set; }

    /// <summary>Test hook: decides whether a block allocation fails.</summary>
    public IAllocFaultInjector? FaultInjector { get; set; }

    /// <summary>The memfd behind the arena (for MAP_FIXED views, udmabuf and export).</summary>
    public SafeFd Fd => _fd;

    /// <summary>The arena's single CPU mapping.</summary>
    public nint BaseAddress => (nint)_base;

    /// <summary>Free blocks on the list of <paramref name="order"/>.</summary>
    public int FreeBlocks(int order) => (uint)order <= (uint)MaxOrder ? _freeCount[order] : 0;

    /// <summary>Free blocks per order 0..MaxOrder.</summary>
    public int[] FreeBlocksPerOrder() => (int[])_freeCount.Clone();

    /// <summary>Byte offset of <paramref name="page"/> in the memfd (the "physical address").</summary>
    public long OffsetOf(int page) => (long)page << PageShift;

    /// <summary>CPU address of <paramref name="page"/> in the arena mapping.</summary>
    public nint AddressOf(int page)
    {
        ThrowIfDisposed();
        CheckPage(page);
        return (nint)(_base + ((long)page << PageShift));
    }

    /// <summary>The bytes of <paramref name="count"/> pages from <paramref name="firstPage"/> (below 2 GiB).</summary>
    public Span<byte> PageSpan(int firstPage, int count = 1)
    {
        // The mapping is gone after Dispose: a span over it would fault, not throw.
        ThrowIfDisposed();
        CheckPage(firstPage);
        // `checked` does not cover shifts, so the byte count is computed in 64 bits and bounded here.
        long bytes = (long)count << PageShift;
        if (count < 0 || (long)firstPage + count > TotalPages || bytes > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"{count} pages from page {firstPage} do not fit the arena or a span");
        }

        return new Span<byte>(_base + ((long)firstPage << PageShift), (int)bytes);
    }

    /// <summary>
    /// alloc_pages(order): a zeroed block of 2^order consecutive pages, or false when no block of
    /// that order or above is free (or the fault injector says so). Nothing changes on failure.
    /// </summary>
    public bool TryAllocPages(int order, out int firstPage)
    {
        ThrowIfDisposed();
        firstPage = -1;
        if ((uint)order > (uint)MaxOrder)
        {
            return false;
        }

        if (FaultInjector?.ShouldFail(order) == true)
        {
            return false;
        }

        int o = order;
        while (o <= MaxOrder && _freeCount[o] == 0)
        {
            o++;
        }

        if (o > MaxOrder)
        {
            return false;
        }

        int block = _freeHead[o];
        Unlink(block, o);

        // Split down to the requested order; the upper halves go back on the lower lists.
        while (o > order)
        {
            o--;
            Push(block + (1 << o), o);
        }

        int count = 1 << order;
        _freePages -= count;
        _allocOrder[block] = (sbyte)order;
        for (int i = 1; i < count; i++)
        {
            _allocOrder[block + i] = CompoundTail;
        }

        ZeroForHandout(block, count);
        firstPage = block;
        return true;
    }

    /// <summary>split_page: turns an allocated order-n block into 2^n order-0 pages that are freed one by one.</summary>
    public void SplitPage(int firstPage, int order)
    {
        CheckPage(firstPage);
        CheckOrder(order);
        if (_allocOrder[firstPage] != order)
        {
            throw new InvalidOperationException($"split_page({firstPage}, {order}): not an allocated block of that order");
        }

        for (int i = 0; i < 1 << order; i++)
        {
            _allocOrder[firstPage + i] = 0;
        }
    }

    /// <summary>__free_page: frees one order-0 page and merges it with its free buddies.</summary>
    public void FreePage(int page) => FreePages(page, 0);

    /// <summary>__free_pages: frees an allocated block of <paramref name="order"/> and merges buddies.</summary>
    public void FreePages(int firstPage, int order)
    {
        ThrowIfDisposed();
        CheckPage(firstPage);
        CheckOrder(order);
        if (_allocOrder[firstPage] != order)
        {
            throw new InvalidOperationException(
                $"free_pages({firstPage}, {order}): page is {(_allocOrder[firstPage] == NotAllocated ? "not allocated (double free?)" : $"allocated at order {_allocOrder[firstPage]}")}");
        }

        FreeSplitBlock(firstPage, order);
    }

    // Frees an aligned block of 2^order pages that are all allocated, either as one block of that order
    // or as order-0 pages after split_page (checked by the caller), and merges buddies.
    private void FreeSplitBlock(int firstPage, int order)
    {
        int count = 1 << order;
        if (Zero == ZeroStrategy.PunchHole)
        {
            // Give the pages back to the kernel now; it refaults zero pages on the next touch. Done before
            // any bookkeeping changes, so a failed fallocate leaves the block allocated, not half freed.
            Syscall.PunchHole(_fd, OffsetOf(firstPage), (long)count << PageShift);
            ClearDirty(firstPage, count);
        }

        for (int i = 0; i < count; i++)
        {
            _allocOrder[firstPage + i] = NotAllocated;
        }

        _freePages += count;
        int block = firstPage;
        while (order < MaxOrder)
        {
            int buddy = block ^ (1 << order);
            if (buddy + (1 << order) > TotalPages || _freeOrder[buddy] != order)
            {
                break;
            }

            Unlink(buddy, order);
            block = Math.Min(block, buddy);
            order++;
        }

        Push(block, order);
    }

    /// <summary>
    /// Frees each page of a list of order-0 pages (after split_page), last first. Runs of consecutive
    /// pages go back as whole aligned blocks: the buddy merges then leave the same free blocks as freeing
    /// page by page, without one merge walk per page. A page that is not an allocated order-0 page
    /// throws as <see cref="FreePage"/> does, after the pages behind it in the list were freed.
    /// </summary>
    public void FreePageList(ReadOnlySpan<int> pages)
    {
        ThrowIfDisposed();
        int end = pages.Length; // pages[end..] are freed
        while (end > 0)
        {
            // The run of consecutive allocated order-0 pages that ends the unfreed part of the list.
            int last = pages[end - 1];
            if ((uint)last >= (uint)TotalPages || _allocOrder[last] != 0)
            {
                FreePage(last); // throws the typed error
                end--;
                continue;
            }

            int start = end - 1;
            while (start > 0 && pages[start - 1] == pages[start] - 1 && _allocOrder[pages[start - 1]] == 0)
            {
                start--;
            }

            // Carve the run from its end into the largest aligned blocks, pushing the lowest last as the
            // page-by-page order does.
            int first = pages[start];
            int next = last + 1;
            while (next > first)
            {
                int order = Math.Min(Math.Min(BitOperations.TrailingZeroCount(next), BitOperations.Log2((uint)(next - first))), MaxOrder);
                int count = 1 << order;
                FreeSplitBlock(next - count, order);
                next -= count;
            }

            end = start;
        }
    }

    /// <summary>True when <paramref name="page"/> is currently handed out.</summary>
    public bool IsAllocated(int page)
    {
        CheckPage(page);
        return _allocOrder[page] != NotAllocated;
    }

    /// <summary>The free lists as sorted block heads per order: equal snapshots mean identical free lists.</summary>
    public FreeListSnapshot Snapshot()
    {
        var orders = new int[MaxOrder + 1][];
        for (int o = 0; o <= MaxOrder; o++)
        {
            var heads = new int[_freeCount[o]];
            int n = 0;
            for (int p = _freeHead[o]; p >= 0; p = _next[p])
            {
                heads[n++] = p;
            }

            Array.Sort(heads);
            orders[o] = heads;
        }

        return new FreeListSnapshot(orders);
    }

    /// <summary>
    /// Checks the buddy invariants and throws on the first broken one: free blocks aligned, disjoint,
    /// not overlapping allocated pages, no two free buddies left unmerged, and free + allocated = total.
    /// </summary>
    public void CheckInvariants()
    {
        var covered = new bool[TotalPages];
        long free = 0;
        for (int o = 0; o <= MaxOrder; o++)
        {
            int n = 0;
            int prev = -1;
            for (int p = _freeHead[o]; p >= 0; p = _next[p])
            {
                n++;
                if (_prev[p] != prev)
                {
                    throw new InvalidOperationException($"free list {o}: broken back link at {p}");
                }

                prev = p;
                if ((p & ((1 << o) - 1)) != 0 || p + (1 << o) > TotalPages)
                {
                    throw new InvalidOperationException($"free block {p} of order {o} is misaligned or out of range");
                }

                if (_freeOrder[p] != o)
                {
                    throw new InvalidOperationException($"free block {p} is on list {o} but marked {_freeOrder[p]}");
                }

                for (int i = 0; i < 1 << o; i++)
                {
                    if (covered[p + i] || _allocOrder[p + i] != NotAllocated)
                    {
                        throw new InvalidOperationException($"page {p + i} is in two places");
                    }

                    covered[p + i] = true;
                }

                int buddy = p ^ (1 << o);
                if (o < MaxOrder && buddy + (1 << o) <= TotalPages && _freeOrder[buddy] == o)
                {
                    throw new InvalidOperationException($"free buddies {p} and {buddy} of order {o} were not merged");
                }

                free += 1L << o;
            }

            if (n != _freeCount[o])
            {
                throw new InvalidOperationException($"free list {o} holds {n} blocks but counts {_freeCount[o]}");
            }
        }

        for (int p = 0; p < TotalPages; p++)
        {
            if (!covered[p] && _allocOrder[p] == NotAllocated)
            {
                throw new InvalidOperationException($"page {p} is neither free nor allocated");
            }
        }

        if (free != _freePages)
        {
            throw new InvalidOperationException($"free lists hold {free} pages but the counter says {_freePages}");
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _mapping.Dispose();
        _fd.Dispose();
    }

    private void ZeroForHandout(int block, int count)
    {
        // memset only runs of pages that were handed out before; untouched memfd pages are already zero
        // and clearing them would only fault them in.
        int i = 0;
        while (i < count)
        {
            if (!IsDirty(block + i))
            {
                SetDirty(block + i);
                i++;
                continue;
            }

            int start = i;
            while (i < count && IsDirty(block + i))
            {
                i++;
            }

            NativeMemory.Clear(_base + ((long)(block + start) << PageShift), (nuint)((long)(i - start) << PageShift));
            PagesZeroed += i - start;
        }
    }

    private bool IsDirty(int page) => (_dirty[page >> 6] & (1UL << (page & 63))) != 0;

    private void SetDirty(int page) => _dirty[page >> 6] |= 1UL << (page & 63);

    private void ClearDirty(int first, int count)
    {
        for (int p = first; p < first + count; p++)
        {
            _dirty[p >> 6] &= ~(1UL << (p & 63));
        }
    }

    private void Push(int block, int order)
    {
        int head = _freeHead[order];
        _next[block] = head;
        _prev[block] = -1;
        if (head >= 0)
        {
            _prev[head] = block;
        }

        _freeHead[order] = block;
        _freeOrder[block] = (sbyte)order;
        _freeCount[order]++;
    }

    private void Unlink(int block, int order)
    {
        int next = _next[block];
        int prev = _prev[block];
        if (prev >= 0)
        {
            _next[prev] = next;
        }
        else
        {
            _freeHead[order] = next;
        }

        if (next >= 0)
        {
            _prev[next] = prev;
        }

        _freeOrder[block] = NotFree;
        _freeCount[order]--;
    }

    // Orders are checked before they meet the page markers: -1 and -2 are the NotAllocated and
    // CompoundTail markers, and 1 << order wraps for a negative order.
    private void CheckOrder(int order)
    {
        if ((uint)order > (uint)MaxOrder)
        {
            throw new ArgumentOutOfRangeException(nameof(order), order, $"order outside 0..{MaxOrder}");
        }
    }

    private void CheckPage(int page)
    {
        if ((uint)page >= (uint)TotalPages)
        {
            throw new ArgumentOutOfRangeException(nameof(page), page, $"page outside the arena of {TotalPages} pages");
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}

/// <summary>The arena's free lists at one moment, as sorted block heads per order.</summary>
public sealed class FreeListSnapshot : IEquatable<FreeListSnapshot>
{
    internal FreeListSnapshot(int[][] heads) => Heads = heads;

    /// <summary>Heads[order] is the sorted list of free block heads of that order.</summary>
    public IReadOnlyList<int[]> Heads { get; }

    public bool Equals(FreeListSnapshot? other) =>
        other is not null && Heads.Count == other.Heads.Count &&
        Heads.Zip(other.Heads).All(p => p.First.AsSpan().SequenceEqual(p.Second));

    public override bool Equals(object? obj) => Equals(obj as FreeListSnapshot);

    public override int GetHashCode() => Heads.Sum(h => h.Length);

    public override string ToString() =>
        string.Join(" ", Heads.Select((h, o) => $"o{o}:{h.Length}"));
}
