namespace DmaSg.Memory.Arena;

/// <summary>How freed pages are made zero again before they are handed out.</summary>
public enum ZeroStrategy
{
    /// <summary>memset on allocation, only for pages that were handed out before (fresh memfd pages are zero).</summary>
    Memset,

    /// <summary>Punch a hole on free so the kernel hands back zero pages on the next fault.</summary>
    PunchHole,
}

/// <summary>Options of a <see cref="PageArena"/>. The page size is the OS's.</summary>
public sealed record PageArenaOptions
{
    /// <summary>Bytes of memory the arena manages; rounded down to whole pages. Default 256 MiB.</summary>
    public long ArenaSize { get; init; } = 256L << 20;

    /// <summary>Largest buddy order (the kernel's MAX_ORDER, inclusive): blocks of 2^MaxOrder pages. Default 10 (4 MiB).</summary>
    public int MaxOrder { get; init; } = 10;

    /// <summary>How pages are zeroed for reuse.</summary>
    public ZeroStrategy Zero { get; init; } = ZeroStrategy.Memset;

    /// <summary>The memfd's name, shown in /proc/PID/fd and /proc/PID/maps.</summary>
    public string Name { get; init; } = "dmasg-arena";
}
