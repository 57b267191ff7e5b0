namespace DmaSg.Properties.Tests.Support;

/// <summary>What the process holds, from /proc/self: fds and the mappings of a named memfd.</summary>
public static class ProcSelf
{
    public static int FdCount() => Directory.GetFileSystemEntries("/proc/self/fd").Length;

    /// <summary>Open fds whose target is the memfd <paramref name="name"/>.</summary>
    public static int FdsOf(string name)
    {
        string target = $"/memfd:{name} (deleted)";
        int n = 0;
        foreach (string fd in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } link && (link == target || link == $"/memfd:{name}"))
                {
                    n++;
                }
            }
            catch (IOException)
            {
                // The fd closed while we looked.
            }
        }

        return n;
    }

    /// <summary>Names of the memfds starting with <paramref name="prefix"/> that are still open or mapped.</summary>
    public static IReadOnlyList<string> Leftovers(string prefix)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        string marker = $"/memfd:{prefix}";
        foreach (string fd in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } link && link.StartsWith(marker, StringComparison.Ordinal))
                {
                    found.Add($"fd {Path.GetFileName(fd)} -> {link}");
                }
            }
            catch (IOException)
            {
            }
        }

        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            int at = line.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                found.Add($"mapping {line[..line.IndexOf(' ', StringComparison.Ordinal)]} of {line[at..]}");
            }
        }

        return found.ToArray();
    }

    /// <summary>Mappings whose backing file is the memfd <paramref name="name"/> (shown as /memfd:NAME).</summary>
    public static int MappingsOf(string name)
    {
        string needle = $"/memfd:{name} ";
        string needleEnd = $"/memfd:{name}";
        int n = 0;
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            if (line.Contains(needle, StringComparison.Ordinal) || line.EndsWith(needleEnd, StringComparison.Ordinal))
            {
                n++;
            }
        }

        return n;
    }
}
