using System.Runtime.InteropServices;
using DmaSg.Interop.Linux;

namespace DmaSg.Interop;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "madvise", SetLastError = true)]
    internal static partial int Madvise(nint addr, nuint length, int advice);
}

public static partial class Syscall
{
    /// <summary>madvise(2). EINVAL for an unaligned address or an unknown advice.</summary>
    public static void Madvise(nint address, nuint length, Advice advice)
    {
        if (Interop.Madvise(address, length, (int)advice) != 0)
        {
            throw ErrnoException.FromLastError("madvise");
        }
    }
}
