using System.Text;
using DmaSg.Interop.Linux;

namespace DmaSg.Interop;

/// <summary>Encodes a filesystem path as a struct sockaddr_un.</summary>
internal static class UnixAddress
{
    /// <summary>Writes family and NUL-terminated path into <paramref name="addr"/>; returns the address length to pass.</summary>
    public static uint Encode(string path, Span<byte> addr)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0 || path[0] == '\0')
        {
            throw new ArgumentException("a Unix socket path must be a non-empty filesystem path", nameof(path));
        }

        addr.Clear();
        BitConverter.TryWriteBytes(addr, (ushort)SocketFamily.AF_UNIX);
        Span<byte> sunPath = addr.Slice(SockaddrUn.PathOffset, SockaddrUn.PathLength);

        // One byte stays for the NUL; a longer path would be cut silently by the kernel's view of it.
        if (Encoding.UTF8.GetByteCount(path) > SockaddrUn.PathLength - 1 || path.Contains('\0'))
        {
            throw new ArgumentException($"Unix socket path longer than {SockaddrUn.PathLength - 1} bytes or with a NUL: {path}", nameof(path));
        }

        int written = Encoding.UTF8.GetBytes(path, sunPath);
        return (uint)(SockaddrUn.PathOffset + written + 1);
    }
}
