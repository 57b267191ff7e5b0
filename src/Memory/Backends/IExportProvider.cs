using DmaSg.Memory.Arena;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Backends;

/// <summary>Whether a provider can be used here, and if not, why (missing device, EACCES, ENOTTY...).</summary>
public readonly record struct ProviderStatus(bool Usable, string Reason)
{
    public static ProviderStatus Ok { get; } = new(true, "usable");

    public static ProviderStatus Unusable(string reason) => new(false, reason);
}

/// <summary>
/// One way to turn memory into an fd another process or driver can take: a dma-heap, udmabuf, or a memfd.
/// Implementations are thread-safe (they hold at most an open device fd) and throw
/// <see cref="DmaSgException"/> or <see cref="Interop.ErrnoException"/> when they cannot serve a request,
/// which lets <see cref="ProviderChain"/> fall back to the next one.
/// </summary>
public interface IExportProvider : IDisposable
{
    /// <summary>The configured name, e.g. "dma-heap:system", "udmabuf", "memfd".</summary>
    string Name { get; }

    ExportKind Kind { get; }

    /// <summary>Opens the device on first call and reports the outcome; later calls return the same answer.</summary>
    ProviderStatus Probe();

    /// <summary>New memory of <paramref name="size"/> bytes (rounded up to pages), zeroed, owned by the returned fd.</summary>
    ExportedBuffer Allocate(long size, string name);

    /// <summary>
    /// An fd for an arena buffer described by <paramref name="sgt"/> (whole arena pages). Whether the fd
    /// aliases the arena pages or holds a copy is the provider's nature: see <see cref="ExportedBuffer.SharesArenaPages"/>.
    /// </summary>
    ExportedBuffer Export(PageArena arena, SgTable sgt, string name);
}
