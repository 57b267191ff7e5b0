namespace DmaSg.Actors.Tests.Support;

/// <summary>Tests that count this process's fds run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FdTableCollection
{
    public const string Name = "fd table";
}

internal static class ProcFds
{
    /// <summary>
    /// Our fds in /proc/self/fd that a leak would show: memfds, dmabufs and sockets, by number. The runtime's
    /// own files, pipes and event fds come and go and are not ours.
    /// </summary>
    public static SortedDictionary<int, string> Ours()
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

    /// <summary>How many fds of this process are the memfd "dmasg:NAME" (an exported copy named NAME).</summary>
    public static int MemfdsNamed(string name) =>
        Ours().Values.Count(t => t == $"/memfd:dmasg:{name}" || t == $"/memfd:dmasg:{name} (deleted)");
}
