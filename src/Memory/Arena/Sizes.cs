namespace DmaSg.Memory.Arena;

/// <summary>Size checks the kernel needed two fixes for: an int overflow above 2 GiB and a PAGE_ALIGN that wrapped to 0.</summary>
public static class Sizes
{
    /// <summary>
    /// Rounds <paramref name="size"/> up to whole pages. 0, negative, or a size whose rounding would
    /// overflow is InvalidArgument; it never wraps to 0.
    /// </summary>
    public static long PageAlign(long size, int pageSize)
    {
        if (size <= 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"size {size} must be positive");
        }

        long mask = pageSize - 1;
        if (size > long.MaxValue - mask)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"size {size} overflows when rounded up to a page");
        }

        return (size + mask) & ~mask;
    }

    /// <summary>Pages needed for <paramref name="size"/> bytes; InvalidArgument past int.MaxValue pages.</summary>
    public static int PageCount(long size, int pageSize)
    {
        long pages = PageAlign(size, pageSize) / pageSize;
        if (pages > int.MaxValue)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"size {size} needs more than {int.MaxValue} pages");
        }

        return (int)pages;
    }
}
