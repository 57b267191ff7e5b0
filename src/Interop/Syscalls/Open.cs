using System.Runtime.InteropServices;
using DmaSg.Interop.Linux;

namespace DmaSg.Interop;

internal static partial class Interop
{
    // open is variadic in C (the mode); it is passed like a fixed int on x86-64 and arm64.
    [LibraryImport(Libraries.Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode);
}

public static partial class Syscall
{
    /// <summary>open(2) of an existing file, e.g. /dev/dma_heap/system or /dev/udmabuf.</summary>
    public static SafeFd Open(string path, OpenFlags flags)
    {
        ArgumentNullException.ThrowIfNull(path);
        int fd = Interop.Open(path, (int)flags, 0);
        if (fd < 0)
        {
            throw new ErrnoException($"open({path})", Marshal.GetLastPInvokeError());
        }

        return new SafeFd(fd, ownsHandle: true);
    }
}
