using System.Runtime.InteropServices;
using DmaSg.Interop.Linux;

namespace DmaSg.Interop;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MemfdCreate(string name, uint flags);
}

public static partial class Syscall
{
    /// <summary>memfd_create(2): an anonymous shmem file. Its name shows in /proc/PID/fd as "memfd:NAME".</summary>
    public static SafeFd MemfdCreate(string name, MemfdFlags flags)
    {
        ArgumentNullException.ThrowIfNull(name);
        int fd = Interop.MemfdCreate(name, (uint)flags);
        if (fd < 0)
        {
            throw ErrnoException.FromLastError("memfd_create");
        }

        return new SafeFd(fd, ownsHandle: true);
    }
}
