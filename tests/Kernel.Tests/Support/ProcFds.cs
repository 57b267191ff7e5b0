namespace DmaSg.Kernel.Tests.Support;

/// <summary>This process's fd table as /proc/self/fd shows it.</summary>
internal static class ProcFds
{
    /// <summary>
    /// fd number → link target (e.g. "/dmabuf:NAME", "/memfd:NAME (deleted)", "socket:[N]"). The runtime's
    /// own pipes and event fds (the first Process.Start opens some for good) and the assemblies it opens
    /// lazily on other threads are left out: they are not ours to leak.
    /// </summary>
    public static SortedDictionary<int, string> Snapshot()
    {
        var fds = new SortedDictionary<int, string>();
        foreach (string entry in Directory.GetFiles("/proc/self/fd"))
        {
            try
            {
                string target = new FileInfo(entry).LinkTarget ?? "?";
                if (!target.StartsWith("pipe:", StringComparison.Ordinal) && !target.StartsWith("anon_inode:[event", StringComparison.Ordinal)
                    && !target.EndsWith(".dll", StringComparison.Ordinal) && !target.EndsWith(".so", StringComparison.Ordinal))
                {
                    fds[int.Parse(Path.GetFileName(entry))] = target;
                }
            }
            catch (IOException)
            {
                // The fd the directory listing itself used is gone by now.
            }
        }

        return fds;
    }

    /// <summary>Fails with the difference when the fd table changed.</summary>
    public static void AssertSame(SortedDictionary<int, string> before, SortedDictionary<int, string> after)
    {
        var added = after.Where(kv => !before.ContainsKey(kv.Key)).Select(kv => $"+{kv.Key} {kv.Value}").ToList();
        var removed = before.Where(kv => !after.ContainsKey(kv.Key)).Select(kv => $"-{kv.Key} {kv.Value}").ToList();
        Assert.True(added.Count == 0 && removed.Count == 0,
            $"fd table changed: {string.Join(", ", added.Concat(removed))}");
    }

    /// <summary>/proc/self/fdinfo/N as key → value.</summary>
    public static Dictionary<string, string> FdInfo(int fd) =>
        File.ReadLines($"/proc/self/fdinfo/{fd}")
            .Select(l => l.Split(':', 2))
            .Where(p => p.Length == 2)
            .GroupBy(p => p[0].Trim())
            .ToDictionary(g => g.Key, g => g.First()[1].Trim());
}
