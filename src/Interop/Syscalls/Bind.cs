using System.Runtime.InteropServices;

namespace DmaSg.Interop;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "bind", SetLastError = true)]
    internal static unsafe partial int Bind(SafeFd fd, byte* addr, uint addrlen);
}

public static partial class Syscall
{
    /// <summary>
    /// bind(2) of a Unix socket to a filesystem path (at most 107 UTF-8 bytes). EADDRINUSE when the
    /// path exists: the caller removes a stale socket file first.
    /// </summary>
    public static unsafe void BindUnix(SafeFd socket, string path)
    {
        byte* addr = stackalloc byte[Linux.SockaddrUn.Size];
        uint length = UnixAddress.Encode(path, new Span<byte>(addr, Linux.SockaddrUn.Size));
        if (Interop.Bind(socket, addr, length) != 0)
        {
            throw new ErrnoException($"bind({path})", Marshal.GetLastPInvokeError());
        }
    }
}
