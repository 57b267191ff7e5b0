using System.Runtime.InteropServices;
using DmaSg.Interop.Linux;

namespace DmaSg.Interop;

internal static partial class Interop
{
    // fcntl is variadic in C; on x86-64 and arm64 Linux an int third argument is passed like a fixed one.
    [LibraryImport(Libraries.Libc, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int Fcntl(SafeFd fd, int cmd, long arg);
}

public static partial class Syscall
{
    /// <summary>
    /// fcntl(F_ADD_SEALS). EPERM when the file carries F_SEAL_SEAL (a memfd made without MFD_ALLOW_SEALING
    /// starts with it), EBUSY for F_SEAL_WRITE while a writable shared mapping exists, EINVAL on a file
    /// that is not shmem or for an unknown seal bit.
    /// </summary>
    public static void AddSeals(SafeFd fd, SealFlags seals)
    {
        if (Interop.Fcntl(fd, FcntlCommand.F_ADD_SEALS, (long)seals) < 0)
        {
            throw ErrnoException.FromLastError("fcntl(F_ADD_SEALS)");
        }
    }

    /// <summary>fcntl(F_GET_SEALS).</summary>
    public static SealFlags GetSeals(SafeFd fd)
    {
        int seals = Interop.Fcntl(fd, FcntlCommand.F_GET_SEALS, 0);
        if (seals < 0)
        {
            throw ErrnoException.FromLastError("fcntl(F_GET_SEALS)");
        }

        return (SealFlags)seals;
    }

    /// <summary>fcntl(F_DUPFD_CLOEXEC, 0): a second fd for the same open file.</summary>
    public static SafeFd Dup(SafeFd fd)
    {
        int copy = Interop.Fcntl(fd, FcntlCommand.F_DUPFD_CLOEXEC, 0);
        if (copy < 0)
        {
            throw ErrnoException.FromLastError("fcntl(F_DUPFD_CLOEXEC)");
        }

        return new SafeFd(copy, ownsHandle: true);
    }
}
