using System.Runtime.InteropServices;
using DmaSg.Interop.Linux;

namespace DmaSg.Interop;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "accept4", SetLastError = true)]
    internal static partial int Accept4(SafeFd fd, nint addr, nint addrlen, int flags);
}

public static partial class Syscall
{
    /// <summary>accept4(2) without the peer address; <paramref name="flags"/> takes Cloexec and NonBlock only.</summary>
    public static SafeFd Accept(SafeFd listener, SocketType flags = SocketType.Cloexec)
    {
        int fd = Interop.Accept4(listener, 0, 0, (int)flags);
        if (fd < 0)
        {
            throw ErrnoException.FromLastError("accept4");
        }

        return new SafeFd(fd, ownsHandle: true);
    }
}
