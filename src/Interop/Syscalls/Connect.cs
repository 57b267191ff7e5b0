using System.Runtime.InteropServices;

namespace DmaSg.Interop;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "connect", SetLastError = true)]
    internal static unsafe partial int Connect(SafeFd fd, byte* addr, uint addrlen);
}

public static partial class Syscall
{
    /// <summary>connect(2) of a Unix socket to a listening path. ENOENT or ECONNREFUSED when nobody listens there.</summary>
    public static unsafe void ConnectUnix(SafeFd socket, string path)
    {
        byte* addr = stackalloc byte[Linux.SockaddrUn.Size];
        uint length = UnixAddress.Encode(path, new Span<byte>(addr, Linux.SockaddrUn.Size));
        if (Interop.Connect(socket, addr, length) != 0)
        {
            throw new ErrnoException($"connect({path})", Marshal.GetLastPInvokeError());
        }
    }
}
