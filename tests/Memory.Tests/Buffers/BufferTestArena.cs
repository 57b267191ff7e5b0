using DmaSg.Memory.Arena;

namespace DmaSg.Memory.Tests.Buffers;

/// <summary>Small arenas with unique memfd names, so /proc/self/maps shows which mappings are theirs.</summary>
internal static class BufferTestArena
{
    public static int PageSize => Environment.SystemPageSize;

    public static PageArena Create(int pages = 256, int maxOrder = 6) =>
        new(new PageArenaOptions
        {
            ArenaSize = (long)pages * Environment.SystemPageSize,
            MaxOrder = maxOrder,
            Name = "dmasg-buf-" + Guid.NewGuid().ToString("N")[..12],
        });

    /// <summary>Start addresses of every mapping of <paramref name="arena"/>'s memfd in this process.</summary>
    public static List<nint> MappingsOf(PageArena arena)
    {
        string tag = "/memfd:" + arena.Name + " ";
        var starts = new List<nint>();
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            if ((line + " ").Contains(tag, StringComparison.Ordinal))
            {
                starts.Add((nint)Convert.ToInt64(line[..line.IndexOf('-')], 16));
            }
        }

        return starts;
    }

    /// <summary>A byte pattern that differs per position and per seed.</summary>
    public static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 31) + (i >> 8) + (seed * 7) + 1);
        }

        return bytes;
    }
}
