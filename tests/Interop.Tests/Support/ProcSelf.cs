using System.Globalization;
using DmaSg.Interop.Linux;
using Microsoft.Win32.SafeHandles;

namespace DmaSg.Interop.Tests.Support;

/// <summary>One line of /proc/self/maps: [Start, End) with its permissions and backing path.</summary>
internal sealed record MapsEntry(ulong Start, ulong End, string Perms, ulong Offset, string Path)
{
    public bool Overlaps(nint address, nuint length) =>
        Start < (ulong)address + length && (ulong)address < End;

    public bool Contains(nint address, nuint length) =>
        Start <= (ulong)address && (ulong)address + length <= End;
}

/// <summary>One entry of /proc/self/smaps: the maps line plus its VmFlags (e.g. "lo" for VM_LOCKED).</summary>
internal sealed record SmapsEntry(MapsEntry Map, IReadOnlySet<string> VmFlags);

/// <summary>
/// What the kernel reports about this process in /proc/self, so syscall effects are checked from
/// outside the wrappers. Test classes run in parallel, so checks key on unique memfd names rather
/// than on fd numbers or address ranges alone, which another thread may reuse at any moment.
/// </summary>
internal static class ProcSelf
{
    public static int PageSize => Environment.SystemPageSize;

    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    /// <summary>readlink of /proc/self/fd/N, or null when the fd is not open.</summary>
    public static string? FdTarget(int fd)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>True when /proc/self/fd/N is the memfd called <paramref name="name"/>.</summary>
    public static bool FdIsMemfd(int fd, string name) =>
        FdTarget(fd) is { } target && (target == "/memfd:" + name || target == "/memfd:" + name + " (deleted)");

    /// <summary>The octal "flags:" of /proc/self/fdinfo/N (the open file's f_flags, with O_CLOEXEC from the fd table).</summary>
    public static int FdInfoFlags(int fd)
    {
        foreach (string line in File.ReadLines($"/proc/self/fdinfo/{fd}"))
        {
            if (line.StartsWith("flags:", StringComparison.Ordinal))
            {
                return Convert.ToInt32(line["flags:".Length..].Trim(), 8);
            }
        }

        throw new InvalidDataException($"/proc/self/fdinfo/{fd} has no flags line");
    }

    /// <summary>fcntl(F_GETFD) through the internal P/Invoke: the fd's own flags (FD_CLOEXEC).</summary>
    public static int FdFlags(SafeFd fd)
    {
        int flags = Interop.Fcntl(fd, FcntlCommand.F_GETFD, 0);
        if (flags < 0)
        {
            throw ErrnoException.FromLastError("fcntl(F_GETFD)");
        }

        return flags;
    }

    public static IReadOnlyList<MapsEntry> Maps() =>
        File.ReadLines("/proc/self/maps").Select(ParseMapsLine).ToList();

    /// <summary>Mappings backed by the memfd called <paramref name="name"/>.</summary>
    public static IReadOnlyList<MapsEntry> MemfdMaps(string name) =>
        Maps().Where(m => m.Path == "/memfd:" + name || m.Path == "/memfd:" + name + " (deleted)").ToList();

    public static IReadOnlyList<SmapsEntry> Smaps()
    {
        var entries = new List<SmapsEntry>();
        MapsEntry? current = null;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            if (line.StartsWith("VmFlags:", StringComparison.Ordinal))
            {
                var flags = line["VmFlags:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
                entries.Add(new SmapsEntry(current ?? throw new InvalidDataException("VmFlags before a mapping"), flags));
                current = null;
            }
            else if (line.IndexOf(' ') is > 0 and int space && line.AsSpan(0, space).Contains('-'))
            {
                // Only a mapping's header line starts with "start-end"; "Rss:" and the other fields do not.
                current = ParseMapsLine(line);
            }
        }

        return entries;
    }

    /// <summary>
    /// A non-owning view of the fd as a .NET file handle, for fstat (RandomAccess.GetLength) and pread
    /// (RandomAccess.Read): a second path to the file that does not go through the wrappers under test.
    /// The SafeFd must stay open while the view is used.
    /// </summary>
    public static SafeFileHandle View(SafeFd fd) => new(fd.DangerousGetHandle(), ownsHandle: false);

    public static long FileSize(SafeFd fd)
    {
        using SafeFileHandle view = View(fd);
        return RandomAccess.GetLength(view);
    }

    public static byte[] Pread(SafeFd fd, long offset, int count)
    {
        using SafeFileHandle view = View(fd);
        var buffer = new byte[count];
        int read = RandomAccess.Read(view, buffer, offset);
        return read == count ? buffer : throw new EndOfStreamException($"pread returned {read} of {count} bytes");
    }

    private static MapsEntry ParseMapsLine(string line)
    {
        // start-end perms offset dev inode [path]; the path may contain spaces (" (deleted)").
        string[] parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        string[] range = parts[0].Split('-');
        string path = parts.Length > 5 ? parts[5].Trim() : string.Empty;
        return new MapsEntry(
            ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            parts[1],
            ulong.Parse(parts[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            path);
    }
}
