using System.Runtime.InteropServices;
using DmaSg.Interop.Linux;

namespace DmaSg.Interop;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "socketpair", SetLastError = true)]
    internal static unsafe partial int Socketpair(int domain, int type, int protocol, int* sv);
}

public static partial class Syscall
{
    /// <summary>socketpair(AF_UNIX, type, 0): two connected sockets, each owned by its own handle.</summary>
    public static unsafe (SafeFd First, SafeFd Second) UnixSocketPair(SocketType type)
    {
        int* sv = stackalloc int[2];
        if (Interop.Socketpair(SocketFamily.AF_UNIX, (int)type, 0, sv) != 0)
        {
            throw ErrnoException.FromLastError("socketpair(AF_UNIX)");
        }

        return (new SafeFd(sv[0], ownsHandle: true), new SafeFd(sv[1], ownsHandle: true));
    }
}
