using DmaSg.Memory.Arena;

namespace DmaSg.Memory.Tests.Arena;

/// <summary>
/// Arenas with unique memfd names, and what the kernel says about them in /proc/self. Test classes
/// run in parallel, so checks key on the memfd name rather than on fd numbers another thread may reuse.
/// </summary>
internal static class TestArenas
{
    public static int PageSize => Environment.SystemPageSize;

    public static string UniqueName() => "dmasg-arena-test-" + Guid.NewGuid().ToString("N")[..12];

    public static PageArena Create(long pages, int maxOrder, ZeroStrategy zero = ZeroStrategy.Memset) =>
        new(new PageArenaOptions
        {
            ArenaSize = pages * PageSize,
            MaxOrder = maxOrder,
            Zero = zero,
            Name = UniqueName(),
        });

    /// <summary>Open fds of this process (entries of /proc/self/fd).</summary>
    public static int FdCount() => Directory.GetFiles("/proc/self/fd").Length;

    /// <summary>Fds of this process that point at the memfd called <paramref name="name"/>.</summary>
    public static int FdsOfMemfd(string name)
    {
        int n = 0;
        foreach (string fd in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed between listing and readlink, by another thread
            }

            if (target == "/memfd:" + name || target == "/memfd:" + name + " (deleted)")
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>Lines of /proc/self/maps backed by the memfd called <paramref name="name"/>.</summary>
    public static int MappingsOfMemfd(string name) =>
        File.ReadLines("/proc/self/maps").Count(l => IsMemfdLine(l, name));

    /// <summary>Resident kilobytes of every mapping of the memfd called <paramref name="name"/> (smaps "Rss:").</summary>
    public static long RssKbOfMemfd(string name)
    {
        long kb = 0;
        bool inside = false;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            if (line.IndexOf(' ') is > 0 and int space && line.AsSpan(0, space).Contains('-'))
            {
                inside = IsMemfdLine(line, name); // a mapping's header line
            }
            else if (inside && line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                kb += long.Parse(line["Rss:".Length..].Replace("kB", string.Empty, StringComparison.Ordinal).Trim());
            }
        }

        return kb;
    }

    /// <summary>True when the page's bytes are all zero.</summary>
    public static bool IsZero(PageArena arena, int page) => arena.PageSpan(page).IndexOfAnyExcept((byte)0) < 0;

    /// <summary>Fills a page with nonzero garbage that depends on the page and on <paramref name="seed"/>.</summary>
    public static void Scribble(PageArena arena, int page, int seed)
    {
        Span<byte> span = arena.PageSpan(page);
        span.Fill((byte)(((page + seed) % 255) + 1));
        span[0] = (byte)((seed % 251) + 1);
        span[^1] = (byte)((page % 251) + 1);
    }

    private static bool IsMemfdLine(string line, string name)
    {
        string tail = "/memfd:" + name;
        return line.EndsWith(tail, StringComparison.Ordinal) || line.EndsWith(tail + " (deleted)", StringComparison.Ordinal);
    }
}
