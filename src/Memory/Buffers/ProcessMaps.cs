using System.Globalization;

namespace DmaSg.Memory.Buffers;

/// <summary>
/// The vma walk of get_user_pages: reads /proc/self/maps to tell whether a user range is mapped at all
/// and with which permissions, so a bad USERPTR is a Fault at pin time rather than a SIGSEGV when the
/// device (or a bounce copy) touches it.
/// </summary>
internal static class ProcessMaps
{
    private const string Path = "/proc/self/maps";

    /// <summary>The access every mapping over [start, start+length) grants; Covered is false when part is unmapped.</summary>
    internal readonly record struct RangeAccess(bool Covered, bool Readable, bool Writable);

    internal static RangeAccess Query(nint start, long length)
    {
        ulong cursor = (ulong)start;
        ulong end = cursor + (ulong)length;
        bool readable = true, writable = true;
        using var reader = new StreamReader(Path);
        while (reader.ReadLine() is { } line)
        {
            // "start-end perms offset dev inode path", sorted by address.
            int dash = line.IndexOf('-');
            int space = line.IndexOf(' ');
            if (dash <= 0 || space <= dash || line.Length < space + 3)
            {
                continue;
            }

            ulong lo = ulong.Parse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong hi = ulong.Parse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (hi <= cursor)
            {
                continue;
            }

            if (lo > cursor)
            {
                // A hole before the rest of the range.
                return new RangeAccess(false, false, false);
            }

            readable &= line[space + 1] == 'r';
            writable &= line[space + 2] == 'w';
            cursor = hi;
            if (cursor >= end)
            {
                return new RangeAccess(true, readable, writable);
            }
        }

        return new RangeAccess(false, false, false);
    }
}
