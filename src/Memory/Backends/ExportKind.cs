namespace DmaSg.Memory.Backends;

/// <summary>What an exported fd is.</summary>
public enum ExportKind : byte
{
    /// <summary>A dmabuf from /dev/dma_heap/NAME: kernel-owned pages, one CPU-visible range when mmapped.</summary>
    DmaHeap = 1,

    /// <summary>A dmabuf from /dev/udmabuf over memfd pages: an arena buffer's own pages, no copy.</summary>
    Udmabuf = 2,

    /// <summary>A sealed memfd (not a dmabuf): size fixed by F_SEAL_SHRINK|F_SEAL_GROW, no further seals.</summary>
    Memfd = 3,
}

public static class ExportKindExtensions
{
    /// <summary>True for kinds the kernel treats as a dmabuf (DMA_BUF_IOCTL_SYNC and DMA_BUF_SET_NAME apply).</summary>
    public static bool IsDmabuf(this ExportKind kind) => kind is ExportKind.DmaHeap or ExportKind.Udmabuf;
}
