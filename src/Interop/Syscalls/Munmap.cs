using System.Runtime.InteropServices;

namespace DmaSg.Interop;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int Munmap(nint addr, nuint length);
}

public static partial class Syscall
{
    /// <summary>munmap(2) of a raw range; owned mappings are released by disposing their <see cref="SafeMapping"/>.</summary>
    public static void Munmap(nint address, nuint length)
    {
        if (Interop.Munmap(address, length) != 0)
        {
            throw ErrnoException.FromLastError("munmap");
        }
    }
}
