using DmaSg.Memory.Arena;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Tests.Backends;

internal static class BackendTestSupport
{
    public static readonly int Page = Environment.SystemPageSize;

    public static PageArena NewArena(int pages = 64) =>
        new(new PageArenaOptions { ArenaSize = (long)pages * Page, MaxOrder = 4, Name = "dmasg-be-" + Guid.NewGuid().ToString("N")[..12] });

    /// <summary>Takes all pages one by one, keeps <paramref name="indices"/> (in that order), frees the rest.</summary>
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

    public static SgTable Table(PageArena arena, int[] pages) =>
        SgTable.FromArenaPages(arena, pages, 0, (long)pages.Length * arena.PageSize, long.MaxValue, "buffer");

    public static void Fill(PageArena arena, int[] pages, int seed)
    {
        for (int k = 0; k < pages.Length; k++)
        {
            Span<byte> page = arena.PageSpan(pages[k]);
            for (int j = 0; j < page.Length; j++)
            {
                page[j] = FdPeer.Peer.Pattern(((long)k * Page) + j, seed);
            }
        }
    }

    public static void AssertPattern(ReadOnlySpan<byte> bytes, int seed)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != FdPeer.Peer.Pattern(i, seed))
            {
                Assert.Fail($"byte {i} is {bytes[i]}, expected {FdPeer.Peer.Pattern(i, seed)} (seed {seed})");
            }
        }
    }

    /// <summary>
    /// Our fds in /proc/self/fd: memfds, dmabufs and sockets, by number. The runtime's own files, pipes and
    /// event fds are left out; they are not ours to leak.
    /// </summary>
    public static SortedDictionary<int, string> OurFds()
    {
        var fds = new SortedDictionary<int, string>();
        foreach (string entry in Directory.GetFiles("/proc/self/fd"))
        {
            try
            {
                string? target = new FileInfo(entry).LinkTarget;
                if (target is not null && (target.StartsWith("/memfd:", StringComparison.Ordinal) || target.Contains("dmabuf") || target.StartsWith("socket:", StringComparison.Ordinal)))
                {
                    fds[int.Parse(Path.GetFileName(entry))] = target;
                }
            }
            catch (IOException)
            {
                // The listing's own fd, closed by now.
            }
        }

        return fds;
    }

    /// <summary>True while some fd of this process is the memfd "dmasg:NAME".</summary>
    public static bool MemfdOpen(string name) =>
        OurFds().Values.Any(t => t == $"/memfd:dmasg:{name}" || t == $"/memfd:dmasg:{name} (deleted)");
}
