using System.Runtime.InteropServices;
using DmaSg.Interop.Linux;

namespace DmaSg.Interop;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "socket", SetLastError = true)]
    internal static partial int Socket(int domain, int type, int protocol);
}

public static partial class Syscall
{
    /// <summary>socket(AF_UNIX, type, 0). Pass <see cref="SocketType.Cloexec"/> so children never inherit it.</summary>
    public static SafeFd UnixSocket(SocketType type)
    {
        int fd = Interop.Socket(SocketFamily.AF_UNIX, (int)type, 0);
        if (fd < 0)
        {
            throw ErrnoException.FromLastError("socket(AF_UNIX)");
        }

        return new SafeFd(fd, ownsHandle: true);
    }
}
