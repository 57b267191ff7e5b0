using System.Runtime.InteropServices;

namespace DmaSg.Interop.Linux;

/// <summary>struct dma_heap_allocation_data (linux/dma-heap.h): 24 bytes, fd at offset 8.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct DmaHeapAllocationData
{
    public ulong Len;
    public uint Fd;
    public uint FdFlags;
    public ulong HeapFlags;
}

/// <summary>linux/dma-heap.h</summary>
public static class DmaHeap
{
    /// <summary>Only O_CLOEXEC and the access mode are valid in fd_flags.</summary>
    public const uint ValidFdFlags = (uint)(OpenFlags.Cloexec | OpenFlags.AccessModeMask);

    /// <summary>DMA_HEAP_IOCTL_ALLOC = _IOWR('H', 0, struct dma_heap_allocation_data) = 0xC0184800.</summary>
    public static readonly uint IoctlAlloc = IoctlNumber.Iowr('H', 0, (uint)Marshal.SizeOf<DmaHeapAllocationData>());

    public const string DevicePath = "/dev/dma_heap";
}
