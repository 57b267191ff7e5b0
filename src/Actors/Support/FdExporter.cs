using DmaSg.Memory.Arena;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Buffers;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Actors.Support;

/// <summary>
/// The allocator's dmabuf providers (dmasg.export.providers) with its arena. The allocator creates and
/// disposes it; a buffer actor calls <see cref="Export"/> for its own buffer, whose pages cannot be freed
/// during the call (the actor owns them). The arena is only read here (its fd and page addresses), never
/// changed, and <see cref="ProviderChain"/> is thread-safe, so no lock is needed.
/// </summary>
internal sealed class FdExporter(PageArena arena, ProviderChain chain) : IDisposable
{
    public IReadOnlyList<string> Order { get; } = chain.Providers.Select(p => p.Name).ToArray();

    /// <summary>
    /// An fd for <paramref name="buffer"/>: a dup of its own dmabuf when it is one (dma-heap backend); otherwise,
    /// for its arena pages, a udmabuf (zero-copy) or a copy (dma-heap, memfd), as the chain finds.
    /// </summary>
    public BufferExport Export(SgBuffer buffer, DmaDirection direction, string name) =>
        buffer.Dmabuf is { } dmabuf
            ? BufferExport.OfDmabuf(dmabuf, direction, name)
            : BufferExport.Create(chain, arena, buffer.SgTable, direction, name);

    /// <summary>
    /// Called by the allocator before it frees pages that a udmabuf was made of: punches them out of the arena
    /// memfd, so whoever still holds the dmabuf keeps the old pages and the arena's next user gets fresh ones.
    /// </summary>
    public void DetachPages(int[] pages) =>
        UdmabufProvider.DetachPages(arena, SgTable.FromArenaPages(arena, pages, 0, (long)pages.Length * arena.PageSize, long.MaxValue, "detach"));

    public void Dispose() => chain.Dispose();
}
