using DmaSg.Interop;
using DmaSg.Interop.Linux;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Backends;

/// <summary>
/// An exported buffer: one fd (a dmabuf or a sealed memfd), its kind and size. The fd is what travels to
/// another process or driver; closing this handle closes only our fd, and the memory lives on while
/// any other fd or mapping of it exists (the kernel counts those). Not thread-safe: one owner.
/// </summary>
public sealed class ExportedBuffer : IDisposable
{
    private SafeFd? _fd;

    internal ExportedBuffer(SafeFd fd, ExportKind kind, long size, string name, string provider, bool sharesArenaPages, string? kernelName)
    {
        _fd = fd;
        Kind = kind;
        Size = size;
        Name = name;
        Provider = provider;
        SharesArenaPages = sharesArenaPages;
        KernelName = kernelName;
    }

    /// <summary>The owned fd. ObjectDisposedException after <see cref="Dispose"/> or <see cref="DetachFd"/>.</summary>
    public SafeFd Fd => _fd is { IsClosed: false } fd ? fd : throw new ObjectDisposedException(nameof(ExportedBuffer), $"{Name}: the fd was closed or handed over");

    public ExportKind Kind { get; }

    /// <summary>True for a real kernel dmabuf (dma-heap or udmabuf); false for a memfd.</summary>
    public bool IsDmabuf => Kind.IsDmabuf();

    /// <summary>Bytes, whole pages.</summary>
    public long Size { get; }

    public string Name { get; }

    /// <summary>The provider that made it, e.g. "dma-heap:system".</summary>
    public string Provider { get; }

    /// <summary>
    /// True when the fd aliases the arena buffer's own pages (udmabuf): writes through either are seen by
    /// the other, with no copy. False when the export holds a copy made at export time (dma-heap, memfd)
    /// or when the memory was allocated for the export itself.
    /// </summary>
    public bool SharesArenaPages { get; }

    /// <summary>The name set with DMA_BUF_SET_NAME (shown in /proc/PID/fdinfo), or null when none was set.</summary>
    public string? KernelName { get; }

    /// <summary>
    /// Adopts an fd received from elsewhere (e.g. over SCM_RIGHTS). Its size is taken from the kernel
    /// (lseek SEEK_END) and must equal <paramref name="declaredSize"/>, so a lying peer cannot make us
    /// map past the end (SIGBUS). On failure the fd is closed and InvalidArgument thrown.
    /// </summary>
    public static ExportedBuffer Adopt(SafeFd fd, ExportKind kind, long declaredSize, string name, string provider = "received")
    {
        ArgumentNullException.ThrowIfNull(fd);
        try
        {
            if (!Enum.IsDefined(kind))
            {
                throw new DmaSgException(DmaSgError.InvalidArgument, $"{name}: unknown export kind {(int)kind}");
            }

            long actual = Syscall.SizeOfFd(fd);
            Syscall.Lseek(fd, 0, Whence.Set);
            if (declaredSize <= 0 || actual != declaredSize)
            {
                throw new DmaSgException(DmaSgError.InvalidArgument, $"{name}: declared {declaredSize} bytes, but the fd holds {actual}");
            }

            return new ExportedBuffer(fd, kind, actual, name, provider, sharesArenaPages: false, kernelName: null);
        }
        catch (ErrnoException e)
        {
            fd.Dispose();
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{name}: the received fd is not a sized buffer: {e.Message}", e);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>mmap(MAP_SHARED) of the whole buffer: every mapping of the fd, in any process, sees the same bytes.</summary>
    public SafeMapping Map(Protection protection = Protection.ReadWrite) =>
        Syscall.Mmap((nuint)Size, protection, MapFlags.Shared, Fd, 0);

    /// <summary>
    /// The buffer as an sg table over a CPU mapping of it: one entry. For a dma-heap buffer the kernel owns
    /// the pages and user space never sees how they are scattered; the only view it has is one
    /// CPU-visible range (the mmap), so that is the table. <see cref="SgEntry.Phys"/> is the byte offset in the fd.
    /// </summary>
    public SgTable CpuSgTable(SafeMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        if ((long)mapping.Length != Size)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{Name}: a {mapping.Length}-byte mapping is not this {Size}-byte buffer");
        }

        int page = Environment.SystemPageSize;
        var phys = new long[Size / page];
        for (int i = 0; i < phys.Length; i++)
        {
            phys[i] = (long)i * page;
        }

        nint address = mapping.Address;
        return SgTable.Build(phys, p => address + (nint)p, page, 0, Size, long.MaxValue, Name);
    }

    /// <summary>
    /// DMA_BUF_IOCTL_SYNC START before the CPU accesses the mapping (the finish side of a device
    /// transfer): READ for FromDevice, WRITE for ToDevice, both for Bidirectional. A memfd needs no sync.
    /// </summary>
    public void BeginCpuAccess(DmaDirection direction) => Sync(DmaBufSyncFlags.Start, direction);

    /// <summary>DMA_BUF_IOCTL_SYNC END after the CPU access, before a device uses the buffer (the prepare side).</summary>
    public void EndCpuAccess(DmaDirection direction) => Sync(DmaBufSyncFlags.End, direction);

    /// <summary>prepare: the CPU is done, the device may go (SYNC END).</summary>
    public void Prepare(DmaDirection direction) => EndCpuAccess(direction);

    /// <summary>finish: the device is done, the CPU may look (SYNC START).</summary>
    public void Finish(DmaDirection direction) => BeginCpuAccess(direction);

    /// <summary>A second fd for the same buffer (F_DUPFD_CLOEXEC), e.g. for a second consumer.</summary>
    public SafeFd DuplicateFd() => Syscall.Dup(Fd);

    /// <summary>A second owner of the same memory: a dup of the fd (F_DUPFD_CLOEXEC) with this one's kind, size and kernel name.</summary>
    public ExportedBuffer Duplicate(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return new ExportedBuffer(DuplicateFd(), Kind, Size, name, Provider, SharesArenaPages, KernelName);
    }

    /// <summary>Hands the fd over to the caller; this object no longer closes it.</summary>
    public SafeFd DetachFd()
    {
        SafeFd fd = Fd;
        _fd = null;
        return fd;
    }

    public void Dispose()
    {
        _fd?.Dispose();
        _fd = null;
    }

    public override string ToString() => $"{Name}: {Kind} {Size} bytes from {Provider}{(SharesArenaPages ? ", shares arena pages" : "")}";

    internal static DmaBufSyncFlags SyncFlags(DmaDirection direction) => direction switch
    {
        DmaDirection.ToDevice => DmaBufSyncFlags.Write,
        DmaDirection.FromDevice => DmaBufSyncFlags.Read,
        DmaDirection.Bidirectional => DmaBufSyncFlags.ReadWrite,
        _ => throw new DmaSgException(DmaSgError.InvalidArgument, $"direction {direction} is not valid for a CPU access sync"),
    };

    private void Sync(DmaBufSyncFlags phase, DmaDirection direction)
    {
        DmaBufSyncFlags access = SyncFlags(direction);
        if (IsDmabuf)
        {
            Syscall.DmaBufSync(Fd, phase | access);
        }
        else
        {
            // A memfd is plain cached memory with nothing to sync; a closed one is still an error.
            _ = Fd;
        }
    }
}
