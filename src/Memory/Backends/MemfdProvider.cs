using DmaSg.Interop;
using DmaSg.Interop.Linux;
using DmaSg.Memory.Arena;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Backends;

/// <summary>
/// The fallback that always works: a memfd per buffer, sealed with F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL.
/// The size seals mean a receiver can trust the size (no SIGBUS from a peer truncating it); F_SEAL_SEAL
/// means nobody can add F_SEAL_WRITE later and lock the other side out. Not a dmabuf: drivers cannot
/// import it, and there is no sync ioctl (none is needed: it is plain cached memory).
/// </summary>
public sealed class MemfdProvider : IExportProvider
{
    public const string ProviderName = "memfd";

    /// <summary>The seals every exported memfd carries.</summary>
    public const SealFlags ExportSeals = SealFlags.Shrink | SealFlags.Grow | SealFlags.Seal;

    public string Name => ProviderName;

    public ExportKind Kind => ExportKind.Memfd;

    public ProviderStatus Probe() => ProviderStatus.Ok;

    public ExportedBuffer Allocate(long size, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        long aligned = ExportSupport.PageAligned(size);
        return new ExportedBuffer(Create(aligned, name), ExportKind.Memfd, aligned, name, Name, sharesArenaPages: false, kernelName: null);
    }

    /// <summary>A sealed memfd holding a copy of the arena buffer, made now: later writes on either side are not shared.</summary>
    public ExportedBuffer Export(PageArena arena, SgTable sgt, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        long size = ExportSupport.CheckArenaTable(arena, sgt, name);
        SafeFd fd = Create(size, name);
        try
        {
            using (SafeMapping map = Syscall.Mmap((nuint)size, Protection.ReadWrite, MapFlags.Shared, fd, 0))
            {
                ExportSupport.CopyOut(sgt, map);
            }

            return new ExportedBuffer(fd, ExportKind.Memfd, size, name, Name, sharesArenaPages: false, kernelName: null);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
    }

    private static SafeFd Create(long size, string name)
    {
        SafeFd fd = Syscall.MemfdCreate(ExportSupport.MemfdName(name), MemfdFlags.Cloexec | MemfdFlags.AllowSealing);
        try
        {
            Syscall.Ftruncate(fd, size);
            Syscall.AddSeals(fd, ExportSeals);
            return fd;
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }
}
