using System.Runtime.InteropServices;

namespace DmaSg.Interop;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "listen", SetLastError = true)]
    internal static partial int Listen(SafeFd fd, int backlog);
}

public static partial class Syscall
{
    /// <summary>listen(2).</summary>
    public static void Listen(SafeFd socket, int backlog)
    {
        if (Interop.Listen(socket, backlog) != 0)
        {
            throw ErrnoException.FromLastError("listen");
        }
    }
}
