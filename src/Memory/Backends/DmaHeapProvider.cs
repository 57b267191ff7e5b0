using DmaSg.Interop;
using DmaSg.Interop.Linux;
using DmaSg.Memory.Arena;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Backends;

/// <summary>
/// Buffers from a Linux dma-heap, /dev/dma_heap/NAME ("system" by default; also e.g. "linux,cma" or a
/// reserved-memory heap). Each buffer is a kernel dmabuf allocated with DMA_HEAP_IOCTL_ALLOC and named
/// with DMA_BUF_SET_NAME. The kernel owns its pages and never shows user space how they are scattered:
/// the buffer's sg view here is a single CPU-visible range, the mmap of its fd
/// (<see cref="ExportedBuffer.CpuSgTable"/>). CPU access is bracketed by DMA_BUF_IOCTL_SYNC START/END.
/// </summary>
public sealed class DmaHeapProvider : IExportProvider
{
    public const string DefaultHeap = "system";
    public const string DefaultDirectory = "/dev/dma_heap";

    private readonly DeviceOpener _heap;

    /// <param name="heapName">The heap's file name under <paramref name="directory"/>.</param>
    /// <param name="directory">Where heaps live; only tests change it.</param>
    public DmaHeapProvider(string heapName = DefaultHeap, string directory = DefaultDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(heapName);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (heapName.Contains('/') || heapName is "." or "..")
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"dma-heap name \"{heapName}\" is not a file name");
        }

        HeapName = heapName;
        Name = "dma-heap:" + heapName;
        _heap = new DeviceOpener(Path.Combine(directory, heapName), OpenFlags.ReadOnly,
            "kernel without CONFIG_DMABUF_HEAPS and CONFIG_DMABUF_HEAPS_SYSTEM, or no heap of that name");
    }

    public string HeapName { get; }

    public string Name { get; }

    public ExportKind Kind => ExportKind.DmaHeap;

    public string DevicePath => _heap.Path;

    public ProviderStatus Probe() => _heap.Status;

    /// <summary>A new heap buffer: zeroed by the kernel, mmappable, named "dmasg:NAME".</summary>
    public ExportedBuffer Allocate(long size, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        long aligned = ExportSupport.PageAligned(size);
        SafeFd fd = Syscall.DmaHeapAlloc(_heap.Fd, (ulong)aligned);
        string? kernelName = ExportSupport.TryNameDmabuf(fd, name);
        return new ExportedBuffer(fd, ExportKind.DmaHeap, aligned, name, Name, sharesArenaPages: false, kernelName);
    }

    /// <summary>
    /// A heap buffer holding a copy of the arena buffer, made now (a heap buffer is kernel memory: arena
    /// pages cannot become one without a copy). Put udmabuf before dma-heap in the chain when arena
    /// buffers must be exported without a copy.
    /// </summary>
    public ExportedBuffer Export(PageArena arena, SgTable sgt, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        long size = ExportSupport.CheckArenaTable(arena, sgt, name);
        ExportedBuffer buffer = Allocate(size, name);
        try
        {
            using SafeMapping map = buffer.Map();
            buffer.BeginCpuAccess(Dma.DmaDirection.ToDevice);
            ExportSupport.CopyOut(sgt, map);
            buffer.EndCpuAccess(Dma.DmaDirection.ToDevice);
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    public void Dispose() => _heap.Dispose();
}
