using System.Runtime.InteropServices;

namespace DmaSg.Interop;

internal static partial class Interop
{
    // ioctl is variadic in C; a pointer third argument is passed like a fixed one on x86-64 and arm64.
    [LibraryImport(Libraries.Libc, EntryPoint = "ioctl", SetLastError = true)]
    internal static unsafe partial int Ioctl(SafeFd fd, nuint request, void* arg);
}

public static partial class Syscall
{
    /// <summary>ioctl(2) with a pointer argument; returns the call's non-negative result.</summary>
    public static unsafe int Ioctl(SafeFd fd, uint request, void* arg) => Ioctl(fd, request, arg, $"ioctl(0x{request:X8})");

    /// <summary>ioctl(2) whose failure names the request as <paramref name="call"/>, e.g. "ioctl(DMA_HEAP_IOCTL_ALLOC)".</summary>
    internal static unsafe int Ioctl(SafeFd fd, uint request, void* arg, string call)
    {
        int result = Interop.Ioctl(fd, request, arg);
        if (result < 0)
        {
            throw ErrnoException.FromLastError(call);
        }

        return result;
    }

    internal static unsafe int Ioctl<T>(SafeFd fd, uint request, ref T arg, string call)
        where T : unmanaged
    {
        fixed (T* p = &arg)
        {
            return Ioctl(fd, request, p, call);
        }
    }

    /// <summary>ioctl(2) with a struct argument passed by reference.</summary>
    public static unsafe int Ioctl<T>(SafeFd fd, uint request, ref T arg)
        where T : unmanaged
    {
        fixed (T* p = &arg)
        {
            return Ioctl(fd, request, p);
        }
    }

    /// <summary>ioctl(2) that returns -errno instead of throwing, for callers that retry (EINTR, EAGAIN).</summary>
    public static unsafe int TryIoctl(SafeFd fd, uint request, void* arg)
    {
        int result = Interop.Ioctl(fd, request, arg);
        return result < 0 ? -Marshal.GetLastPInvokeError() : result;
    }
}
