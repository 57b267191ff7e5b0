using System.Buffers;
using System.Runtime.InteropServices;
using DmaSg.Interop;
using DmaSg.Memory.Dma;

namespace DmaSg.Memory.Buffers;

/// <summary>
/// USERPTR pages: vb2_create_framevec + pin_user_pages. Caller memory stays where it is for the life of
/// the pin: managed memory through its <see cref="MemoryHandle"/>, and every page is mlock'ed for
/// residency where RLIMIT_MEMLOCK allows (best effort, recorded in <see cref="IsLocked"/>). The first
/// page offset is kept so an unaligned start still gets an exact sg table. Single-threaded.
/// </summary>
public sealed class UserPages
{
    private MemoryHandle _handle;
    private readonly bool _hasHandle;

    private UserPages(nint address, long length, DmaDirection direction, bool writable, MemoryHandle handle, bool hasHandle)
    {
        PageSize = Environment.SystemPageSize;
        Address = address;
        Length = length;
        Direction = direction;
        IsWritable = writable;
        _handle = handle;
        _hasHandle = hasHandle;
        Offset = (int)(address & (PageSize - 1));
        PageAlignedStart = address - Offset;
        PageCount = (int)((Offset + length + PageSize - 1) / PageSize);

        // mlock is per page and not counted: two pins over one page share it, and the first release
        // unlocks it for both. The MemoryHandle (or the caller's own mapping) is what keeps the address valid.
        IsLocked = Syscall.TryMlock(PageAlignedStart, (nuint)PagesLength, out int errno);
        MlockErrno = errno;
    }

    /// <summary>The caller's first byte.</summary>
    public nint Address { get; }

    /// <summary>The caller's byte count.</summary>
    public long Length { get; }

    /// <summary>Address &amp; (PAGE_SIZE - 1): where the data starts inside the first page.</summary>
    public int Offset { get; }

    /// <summary>The first page's address.</summary>
    public nint PageAlignedStart { get; }

    /// <summary>Pages the range touches (frame_vector_count).</summary>
    public int PageCount { get; }

    public int PageSize { get; }

    /// <summary>Bytes of whole pages pinned.</summary>
    public long PagesLength => (long)PageCount * PageSize;

    public DmaDirection Direction { get; }

    /// <summary>The CPU may write the range (false for read-only memory, which only ToDevice accepts).</summary>
    public bool IsWritable { get; }

    /// <summary>True when this pin holds managed memory through a MemoryHandle.</summary>
    public bool IsManaged => _hasHandle;

    /// <summary>mlock succeeded, so the pages are resident; false past RLIMIT_MEMLOCK (see <see cref="MlockErrno"/>).</summary>
    public bool IsLocked { get; private set; }

    /// <summary>errno of a refused mlock, 0 when it succeeded.</summary>
    public int MlockErrno { get; }

    /// <summary>True until <see cref="Release"/>.</summary>
    public bool IsPinned { get; private set; } = true;

    /// <summary>Pins native memory the caller owns and keeps mapped until release.</summary>
    public static UserPages Pin(nint address, long length, DmaDirection direction)
    {
        Validate(address, length, direction);
        var access = ProcessMaps.Query(address, length);
        if (!access.Covered || !access.Readable)
        {
            throw new DmaSgException(DmaSgError.Fault, $"user range 0x{address:x}+{length} is not mapped readable");
        }

        if (direction.DeviceWrites() && !access.Writable)
        {
            // pin_user_pages(FOLL_WRITE) on a read-only vma: the device could not write its results.
            throw new DmaSgException(DmaSgError.Fault, $"user range 0x{address:x}+{length} is read-only; {direction} needs write access");
        }

        return new UserPages(address, length, direction, access.Writable, default, hasHandle: false);
    }

    /// <summary>Pins managed (or MemoryManager) memory through <see cref="Memory{T}.Pin"/>.</summary>
    public static UserPages Pin(Memory<byte> memory, DmaDirection direction) => PinHandle(memory, direction, writable: true);

    /// <summary>Pins read-only memory; only ToDevice can use it, since the device never writes it.</summary>
    public static UserPages Pin(ReadOnlyMemory<byte> memory, DmaDirection direction)
    {
        direction.ThrowIfInvalidForMapping();
        if (direction.DeviceWrites())
        {
            throw new DmaSgException(DmaSgError.Fault, $"read-only memory cannot be mapped {direction}");
        }

        return PinHandle(MemoryMarshal.AsMemory(memory), direction, writable: false);
    }

    /// <summary>The address of pinned page <paramref name="index"/>.</summary>
    public nint PageAddress(int index)
    {
        if ((uint)index >= (uint)PageCount)
        {
            throw new DmaSgException(DmaSgError.Fault, $"page {index} is outside the {PageCount} pinned pages");
        }

        return PageAlignedStart + (nint)((long)index * PageSize);
    }

    /// <summary>
    /// unpin_user_pages_dirty_lock: drops the pin and returns the pages marked dirty, which are all of them
    /// for FromDevice and Bidirectional (the device may have written any of them) and none for ToDevice.
    /// </summary>
    public nint[] Release()
    {
        if (!IsPinned)
        {
            throw new DmaSgException(DmaSgError.UseAfterRelease, $"user pages at 0x{Address:x} are already released");
        }

        IsPinned = false;
        var dirty = Direction.DeviceWrites() ? new nint[PageCount] : [];
        for (int i = 0; i < dirty.Length; i++)
        {
            dirty[i] = PageAddress(i);
        }

        if (IsLocked)
        {
            IsLocked = false;
            try
            {
                Syscall.Munlock(PageAlignedStart, (nuint)PagesLength);
            }
            catch (ErrnoException)
            {
                // The range was locked by us, so munlock cannot really fail; residency is advisory anyway.
            }
        }

        if (_hasHandle)
        {
            _handle.Dispose();
            _handle = default;
        }

        return dirty;
    }

    private static unsafe UserPages PinHandle(Memory<byte> memory, DmaDirection direction, bool writable)
    {
        direction.ThrowIfInvalidForMapping();
        if (memory.IsEmpty)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, "user memory is empty");
        }

        var handle = memory.Pin();
        try
        {
            nint address = (nint)handle.Pointer;
            Validate(address, memory.Length, direction);
            return new UserPages(address, memory.Length, direction, writable, handle, hasHandle: true);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static void Validate(nint address, long length, DmaDirection direction)
    {
        direction.ThrowIfInvalidForMapping();
        if (length <= 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"user length {length} must be positive");
        }

        if (address == 0)
        {
            throw new DmaSgException(DmaSgError.Fault, "user address is NULL");
        }

        int pageSize = Environment.SystemPageSize;
        ulong start = (ulong)address;
        if (length > long.MaxValue - (2L * pageSize) || start > ulong.MaxValue - (ulong)length - (ulong)pageSize)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"user range 0x{address:x}+{length} wraps the address space");
        }

        long pages = ((long)(start & (ulong)(pageSize - 1)) + length + pageSize - 1) / pageSize;
        if (pages > int.MaxValue)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"user length {length} needs more than {int.MaxValue} pages");
        }
    }
}
