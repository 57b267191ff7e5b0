using System.Runtime.InteropServices;

namespace DmaSg.Interop.Linux;

/// <summary>struct dma_buf_sync (linux/dma-buf.h).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct DmaBufSyncData
{
    public ulong Flags;
}

/// <summary>DMA_BUF_SYNC_* flags (linux/dma-buf.h).</summary>
[Flags]
public enum DmaBufSyncFlags : ulong
{
    Start = 0,
    Read = 1,
    Write = 2,
    ReadWrite = Read | Write,
    End = 4,
}

/// <summary>linux/dma-buf.h</summary>
public static class DmaBuf
{
    /// <summary>DMA_BUF_IOCTL_SYNC = _IOW('b', 0, struct dma_buf_sync) = 0x40086200.</summary>
    public static readonly uint IoctlSync = IoctlNumber.Iow('b', 0, (uint)Marshal.SizeOf<DmaBufSyncData>());

    /// <summary>DMA_BUF_SET_NAME_B = _IOW('b', 1, __u64) = 0x40086201; the name is at most 32 bytes with its NUL.</summary>
    public static readonly uint IoctlSetNameB = IoctlNumber.Iow('b', 1, sizeof(ulong));

    public const int NameLength = 32;
}
