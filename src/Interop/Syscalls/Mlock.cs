using System.Runtime.InteropServices;

namespace DmaSg.Interop;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "mlock", SetLastError = true)]
    internal static partial int Mlock(nint addr, nuint length);

    [LibraryImport(Libraries.Libc, EntryPoint = "munlock", SetLastError = true)]
    internal static partial int Munlock(nint addr, nuint length);
}

public static partial class Syscall
{
    /// <summary>mlock(2): keep the pages resident (the USERPTR pin). ENOMEM/EPERM past RLIMIT_MEMLOCK.</summary>
    public static void Mlock(nint address, nuint length)
    {
        if (Interop.Mlock(address, length) != 0)
        {
            throw ErrnoException.FromLastError("mlock");
        }
    }

    /// <summary>mlock(2) that reports failure instead of throwing; pinning is best effort past RLIMIT_MEMLOCK.</summary>
    public static bool TryMlock(nint address, nuint length, out int errno)
    {
        if (Interop.Mlock(address, length) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return false;
        }

        errno = 0;
        return true;
    }

    /// <summary>munlock(2).</summary>
    public static void Munlock(nint address, nuint length)
    {
        if (Interop.Munlock(address, length) != 0)
        {
            throw ErrnoException.FromLastError("munlock");
        }
    }
}
