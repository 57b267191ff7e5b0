using System.Runtime.InteropServices;

namespace DmaSg.Interop;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "ftruncate", SetLastError = true)]
    internal static partial int Ftruncate(SafeFd fd, long length);
}

public static partial class Syscall
{
    /// <summary>ftruncate(2). Fails with EPERM on a memfd sealed against the change.</summary>
    public static void Ftruncate(SafeFd fd, long length)
    {
        if (Interop.Ftruncate(fd, length) != 0)
        {
            throw ErrnoException.FromLastError("ftruncate");
        }
    }
}
