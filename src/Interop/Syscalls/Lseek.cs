using System.Runtime.InteropServices;
using DmaSg.Interop.Linux;

namespace DmaSg.Interop;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "lseek", SetLastError = true)]
    internal static partial long Lseek(SafeFd fd, long offset, int whence);
}

public static partial class Syscall
{
    /// <summary>lseek(2). On a dmabuf only SEEK_SET/SEEK_END to offset 0 are allowed: SEEK_END gives its size.</summary>
    public static long Lseek(SafeFd fd, long offset, Whence whence)
    {
        long result = Interop.Lseek(fd, offset, (int)whence);
        if (result < 0)
        {
            throw ErrnoException.FromLastError("lseek");
        }

        return result;
    }

    /// <summary>The size of a memfd or a dmabuf, as lseek(fd, 0, SEEK_END) reports it (the file offset moves there).</summary>
    public static long SizeOfFd(SafeFd fd) => Lseek(fd, 0, Whence.End);
}
