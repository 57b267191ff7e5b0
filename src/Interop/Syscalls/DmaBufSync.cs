using DmaSg.Interop.Linux;

namespace DmaSg.Interop;

public static partial class Syscall
{
    /// <summary>How often an interrupted DMA_BUF_IOCTL_SYNC is tried before the error is passed on.</summary>
    internal const int SyncAttempts = 1000;

    /// <summary>
    /// DMA_BUF_IOCTL_SYNC: START before the CPU touches a mapped dmabuf, END after, with READ and/or
    /// WRITE for the access. Retried on EINTR and EAGAIN (the wait for fences was interrupted), as
    /// libcamera and libdmabufheap do. EINVAL for unknown bits or neither READ nor WRITE, ENOTTY on an
    /// fd that is not a dmabuf.
    /// </summary>
    public static unsafe void DmaBufSync(SafeFd dmabuf, DmaBufSyncFlags flags)
    {
        ArgumentNullException.ThrowIfNull(dmabuf);
        int result = RetryInterrupted(() =>
        {
            // A fresh argument per attempt: the kernel may have read a partial one before the signal.
            var sync = new DmaBufSyncData { Flags = (ulong)flags };
            return TryIoctl(dmabuf, DmaBuf.IoctlSync, &sync);
        });
        if (result < 0)
        {
            throw new ErrnoException($"ioctl(DMA_BUF_IOCTL_SYNC, {flags})", -result);
        }
    }

    /// <summary>Calls <paramref name="call"/> (which returns -errno on failure) again while it fails with EINTR or EAGAIN.</summary>
    internal static int RetryInterrupted(Func<int> call)
    {
        int result = 0;
        for (int attempt = 0; attempt < SyncAttempts; attempt++)
        {
            result = call();
            if (result != -Errno.EINTR && result != -Errno.EAGAIN)
            {
                return result;
            }
        }

        return result;
    }
}
