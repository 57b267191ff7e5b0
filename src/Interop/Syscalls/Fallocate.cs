using System.Runtime.InteropServices;
using DmaSg.Interop.Linux;

namespace DmaSg.Interop;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "fallocate", SetLastError = true)]
    internal static partial int Fallocate(SafeFd fd, int mode, long offset, long length);
}

public static partial class Syscall
{
    /// <summary>fallocate(2).</summary>
    public static void Fallocate(SafeFd fd, FallocateMode mode, long offset, long length)
    {
        if (Interop.Fallocate(fd, (int)mode, offset, length) != 0)
        {
            throw ErrnoException.FromLastError("fallocate");
        }
    }

    /// <summary>Frees the file's pages in the range; later reads see zeros (FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE).</summary>
    public static void PunchHole(SafeFd fd, long offset, long length) =>
        Fallocate(fd, FallocateMode.PunchHole | FallocateMode.KeepSize, offset, length);
}
