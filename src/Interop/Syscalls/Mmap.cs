using System.Runtime.InteropServices;
using DmaSg.Interop.Linux;

namespace DmaSg.Interop;

internal static partial class Interop
{
    internal static readonly nint MapFailed = -1;

    [LibraryImport(Libraries.Libc, EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);
}

public static partial class Syscall
{
    /// <summary>mmap(2) of <paramref name="fd"/> (or anonymous memory when it is null).</summary>
    public static SafeMapping Mmap(nuint length, Protection prot, MapFlags flags, SafeFd? fd, long offset)
    {
        if ((flags & (MapFlags.Fixed | MapFlags.FixedNoReplace)) != 0)
        {
            // A fixed mapping belongs to a reservation; see MmapFixed.
            throw new ArgumentException("use MmapFixed for MAP_FIXED", nameof(flags));
        }

        bool added = false;
        try
        {
            int raw = -1;
            if (fd is not null)
            {
                fd.DangerousAddRef(ref added);
                raw = fd.Fd;
            }

            nint address = Interop.Mmap(0, length, (int)prot, (int)flags, raw, offset);
            if (address == Interop.MapFailed)
            {
                throw ErrnoException.FromLastError("mmap");
            }

            return new SafeMapping(address, length);
        }
        finally
        {
            if (added)
            {
                fd!.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Reserves <paramref name="length"/> bytes of address space with PROT_NONE and no backing
    /// (MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE), to be filled with <see cref="MmapFixed"/>.
    /// </summary>
    public static SafeMapping ReserveAddressSpace(nuint length) =>
        Mmap(length, Protection.None, MapFlags.Private | MapFlags.Anonymous | MapFlags.NoReserve, null, 0);

    /// <summary>
    /// mmap(2) with MAP_FIXED of <paramref name="length"/> bytes of <paramref name="fd"/> at
    /// <paramref name="fileOffset"/>, placed at <paramref name="offsetInReservation"/> inside
    /// <paramref name="reservation"/>. The range must lie inside the reservation, so MAP_FIXED
    /// can never replace memory this process did not reserve.
    /// </summary>
    public static void MmapFixed(SafeMapping reservation, nuint offsetInReservation, nuint length,
        Protection prot, MapFlags flags, SafeFd fd, long fileOffset)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        ArgumentNullException.ThrowIfNull(fd);
        if (length == 0 || offsetInReservation > reservation.Length || length > reservation.Length - offsetInReservation)
        {
            throw new ArgumentOutOfRangeException(nameof(length), "the fixed range must lie inside the reservation");
        }

        bool addedReservation = false, addedFd = false;
        try
        {
            reservation.DangerousAddRef(ref addedReservation);
            fd.DangerousAddRef(ref addedFd);
            nint target = reservation.Address + (nint)offsetInReservation;
            nint address = Interop.Mmap(target, length, (int)prot, (int)(flags | MapFlags.Fixed), fd.Fd, fileOffset);
            if (address == Interop.MapFailed)
            {
                throw ErrnoException.FromLastError("mmap(MAP_FIXED)");
            }
        }
        finally
        {
            if (addedFd)
            {
                fd.DangerousRelease();
            }

            if (addedReservation)
            {
                reservation.DangerousRelease();
            }
        }
    }
}
