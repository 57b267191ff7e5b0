using DmaSg.Memory.Arena;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Kernel.Tests.Support;

internal static class Arenas
{
    public static readonly int Page = Environment.SystemPageSize;

    public static PageArena Create(long bytes = 4L << 20) =>
        new(new PageArenaOptions { ArenaSize = bytes, MaxOrder = 4, Name = $"kernel-tests-{Guid.NewGuid():N}" });

    /// <summary>
    /// Takes every page of the arena one by one and returns, in this order, the pages at
    /// <paramref name="indices"/>; the others are freed. Pages out of order or not adjacent give one sg
    /// entry each, adjacent ones merge.
    /// </summary>
    public static int[] TakePages(PageArena arena, params int[] indices)
    {
        var all = new List<int>();
        while (arena.TryAllocPages(0, out int p))
        {
            all.Add(p);
        }

        var keep = indices.ToHashSet();
        foreach (int p in all.Where(p => !keep.Contains(p)))
        {
            arena.FreePage(p);
        }

        return indices;
    }

    public static SgTable Table(PageArena arena, int[] pages, string name = "buffer") =>
        SgTable.FromArenaPages(arena, pages, 0, (long)pages.Length * arena.PageSize, long.MaxValue, name);

    public static byte Pattern(long index, int seed) => FdPeer.Peer.Pattern(index, seed);

    public static unsafe Span<byte> Bytes(nint address, long length) => new((void*)address, checked((int)length));
}
