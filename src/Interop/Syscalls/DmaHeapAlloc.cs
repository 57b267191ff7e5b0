using DmaSg.Interop.Linux;

namespace DmaSg.Interop;

public static partial class Syscall
{
    /// <summary>
    /// DMA_HEAP_IOCTL_ALLOC on an open /dev/dma_heap/NAME: a new dmabuf of <paramref name="length"/>
    /// bytes (the kernel rounds up to pages and hands out zeroed pages), returned as its own fd.
    /// EINVAL for length 0 or fd flags other than O_CLOEXEC and the access mode, ENOMEM when the heap is
    /// exhausted, ENOTTY when <paramref name="heap"/> is not a dma-heap.
    /// </summary>
    public static SafeFd DmaHeapAlloc(SafeFd heap, ulong length, OpenFlags fdFlags = OpenFlags.ReadWrite | OpenFlags.Cloexec)
    {
        var data = new DmaHeapAllocationData { Len = length, FdFlags = (uint)fdFlags };
        Ioctl(heap, DmaHeap.IoctlAlloc, ref data, "ioctl(DMA_HEAP_IOCTL_ALLOC)");
        return new SafeFd((int)data.Fd, ownsHandle: true);
    }
}
