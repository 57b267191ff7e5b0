using DmaSg.Interop;
using DmaSg.Interop.Linux;
using DmaSg.Memory.Arena;

namespace DmaSg.Memory.Buffers;

/// <summary>
/// vm_map_ram: scattered arena pages made CPU-contiguous. The whole range is reserved PROT_NONE first,
/// then each run of consecutive pages is placed over it with one MAP_FIXED|MAP_SHARED mmap of the arena
/// memfd, so bytes written here are the bytes of the arena pages (and of every other view of them).
/// Owns the reservation; disposing unmaps the range once.
/// </summary>
public sealed class VirtualMapping : IDisposable
{
    private readonly SafeMapping _reservation;

    private VirtualMapping(SafeMapping reservation, long length, int pageCount, int runs)
    {
        _reservation = reservation;
        Address = reservation.Address;
        Length = length;
        PageCount = pageCount;
        Runs = runs;
    }

    /// <summary>First byte of the contiguous range (meaningless once disposed).</summary>
    public nint Address { get; }

    /// <summary>Bytes mapped: pages times the page size.</summary>
    public long Length { get; }

    public int PageCount { get; }

    /// <summary>MAP_FIXED mmap calls it took: one per run of consecutive arena pages.</summary>
    public int Runs { get; }

    public bool IsDisposed => _reservation.IsClosed;

    /// <summary>Maps <paramref name="pages"/>, in order, into one new contiguous range.</summary>
    public static VirtualMapping Map(PageArena arena, ReadOnlySpan<int> pages, Protection protection = Protection.ReadWrite)
    {
        ArgumentNullException.ThrowIfNull(arena);
        if (pages.IsEmpty)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, "cannot map an empty page list");
        }

        foreach (int page in pages)
        {
            if ((uint)page >= (uint)arena.TotalPages)
            {
                throw new DmaSgException(DmaSgError.InvalidArgument, $"page {page} is outside the arena of {arena.TotalPages} pages");
            }
        }

        int pageSize = arena.PageSize;
        long length = (long)pages.Length * pageSize;
        SafeMapping reservation;
        try
        {
            reservation = Syscall.ReserveAddressSpace((nuint)length);
        }
        catch (ErrnoException e)
        {
            throw Typed(e, length);
        }

        int runs = 0;
        try
        {
            int start = 0;
            while (start < pages.Length)
            {
                int end = start + 1;
                while (end < pages.Length && pages[end] == pages[end - 1] + 1)
                {
                    end++;
                }

                Syscall.MmapFixed(reservation, (nuint)((long)start * pageSize), (nuint)((long)(end - start) * pageSize),
                    protection, MapFlags.Shared, arena.Fd, arena.OffsetOf(pages[start]));
                runs++;
                start = end;
            }
        }
        catch (Exception e)
        {
            // The fixed runs placed so far live inside the reservation, so one munmap removes them all.
            reservation.Dispose();
            if (e is ErrnoException errno)
            {
                throw Typed(errno, length);
            }

            throw;
        }

        return new VirtualMapping(reservation, length, pages.Length, runs);
    }

    /// <summary>
    /// The first <paramref name="length"/> bytes (whole pages) of a buffer fd, e.g. a dma-heap dmabuf, mapped
    /// MAP_SHARED in one run: its bytes are the fd's, as every other mapping of it sees them.
    /// </summary>
    public static VirtualMapping OfFd(SafeFd fd, long length, Protection protection = Protection.ReadWrite)
    {
        ArgumentNullException.ThrowIfNull(fd);
        int pageSize = Environment.SystemPageSize;
        if (length <= 0 || length % pageSize != 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"cannot map {length} bytes of an fd: whole pages only");
        }

        try
        {
            return new VirtualMapping(Syscall.Mmap((nuint)length, protection, MapFlags.Shared, fd, 0), length, (int)(length / pageSize), runs: 1);
        }
        catch (ErrnoException e)
        {
            throw Typed(e, length);
        }
    }

    /// <summary>The mapped bytes (mappings below 2 GiB).</summary>
    public unsafe Span<byte> AsSpan()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return new Span<byte>((void*)Address, checked((int)Length));
    }

    public void Dispose() => _reservation.Dispose();

    // Callers (actors) reply with typed failures: no address space is OutOfMemory, anything else Io.
    private static DmaSgException Typed(ErrnoException e, long length) =>
        new(e.Errno == Errno.ENOMEM ? DmaSgError.OutOfMemory : DmaSgError.Io, $"cannot map {length} bytes: {e.Message}", e);
}
