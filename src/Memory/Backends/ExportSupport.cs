using System.Text;
using DmaSg.Interop;
using DmaSg.Interop.Linux;
using DmaSg.Memory.Arena;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Backends;

/// <summary>Checks and copies the providers share.</summary>
internal static class ExportSupport
{
    /// <summary>Prefix of every memfd and dmabuf name we give, so leaks are easy to find in /proc/PID/fdinfo.</summary>
    public const string NamePrefix = "dmasg:";

    /// <summary>Checks that <paramref name="sgt"/> is whole pages of <paramref name="arena"/> and returns its page-aligned size.</summary>
    public static long CheckArenaTable(PageArena arena, SgTable sgt, string name)
    {
        if (arena is null)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{name}: no arena");
        }

        if (sgt is null)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{name}: no sg table");
        }

        long page = arena.PageSize;
        if (sgt.FirstOffset != 0 || sgt.OrigNents == 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{name}: only whole arena pages can be exported (first offset {sgt.FirstOffset}, {sgt.OrigNents} entries)");
        }

        foreach (SgEntry e in sgt.Entries)
        {
            if (e.Phys % page != 0 || e.Length % page != 0 || e.Length <= 0 || e.Phys < 0 || e.PhysEnd > arena.SizeInBytes)
            {
                throw new DmaSgException(DmaSgError.InvalidArgument, $"{name}: entry [{e.Phys}, {e.PhysEnd}) is not whole pages inside the {arena.SizeInBytes}-byte arena");
            }

            if (e.Cpu != arena.BaseAddress + (nint)e.Phys)
            {
                throw new DmaSgException(DmaSgError.InvalidArgument, $"{name}: entry at {e.Phys} is not an arena page (CPU address does not match the arena mapping)");
            }
        }

        return sgt.Length;
    }

    /// <summary>Copies the arena bytes described by <paramref name="sgt"/> into <paramref name="destination"/>, in order.</summary>
    public static unsafe void CopyOut(SgTable sgt, SafeMapping destination)
    {
        long done = 0;
        foreach (SgEntry e in sgt.Entries)
        {
            Buffer.MemoryCopy((void*)e.Cpu, (void*)(destination.Address + (nint)done), (long)destination.Length - done, e.Length);
            done += e.Length;
        }
    }

    /// <summary>Copies <paramref name="source"/> (a mapping of an exported fd) back into the arena bytes of <paramref name="sgt"/>, in order.</summary>
    public static unsafe void CopyIn(SafeMapping source, SgTable sgt)
    {
        long done = 0;
        foreach (SgEntry e in sgt.Entries)
        {
            Buffer.MemoryCopy((void*)(source.Address + (nint)done), (void*)e.Cpu, e.Length, e.Length);
            done += e.Length;
        }
    }

    /// <summary>Names a dmabuf "dmasg:NAME" cut to the kernel's 31 bytes; a kernel that refuses names gives null.</summary>
    public static string? TryNameDmabuf(SafeFd dmabuf, string name)
    {
        string full = Truncate(NamePrefix + name, DmaBuf.NameLength - 1);
        try
        {
            Syscall.DmaBufSetName(dmabuf, full);
            return full;
        }
        catch (ErrnoException)
        {
            // The name is only for debugging (e.g. a kernel without DMA_BUF_SET_NAME): the buffer is fine.
            return null;
        }
    }

    /// <summary>memfd name "dmasg:NAME", cut below the kernel's 249-byte limit.</summary>
    public static string MemfdName(string name) => Truncate(NamePrefix + name, 200);

    /// <summary>Rounds up to whole pages, with the kernel's overflow and zero checks.</summary>
    public static long PageAligned(long size) => Sizes.PageAlign(size, Environment.SystemPageSize);

    private static string Truncate(string s, int maxBytes)
    {
        if (Encoding.UTF8.GetByteCount(s) <= maxBytes)
        {
            return s;
        }

        // Cut on a character boundary so the bytes stay valid UTF-8.
        var sb = new StringBuilder();
        int bytes = 0;
        foreach (Rune r in s.EnumerateRunes())
        {
            if (bytes + r.Utf8SequenceLength > maxBytes)
            {
                break;
            }

            sb.Append(r.ToString());
            bytes += r.Utf8SequenceLength;
        }

        return sb.ToString();
    }
}
