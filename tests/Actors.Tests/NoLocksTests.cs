using System.Text.RegularExpressions;

namespace DmaSg.Actors.Tests;

/// <summary>Actors serialize through mailboxes: no lock of any kind may appear in src/Actors.</summary>
public partial class NoLocksTests
{
    [Fact]
    public void Src_actors_has_no_locks()
    {
        string dir = Path.Combine(RepoRoot(), "src", "Actors");
        string[] files = Directory.GetFiles(dir, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                     && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToArray();
        Assert.NotEmpty(files);

        var offences = new List<string>();
        foreach (string file in files)
        {
            string[] lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                string code = StripComment(lines[i]);
                if (Forbidden().IsMatch(code))
                {
                    offences.Add($"{Path.GetRelativePath(dir, file)}:{i + 1}: {lines[i].Trim()}");
                }
            }
        }

        Assert.Empty(offences);
    }

    [Theory]
    [InlineData("lock (_gate)")]
    [InlineData("Monitor.Enter(x);")]
    [InlineData("var s = new SemaphoreSlim(1);")]
    [InlineData("Mutex m;")]
    [InlineData("SpinLock s;")]
    [InlineData("ReaderWriterLockSlim rw;")]
    [InlineData("private readonly Lock _lock = new();")]
    public void The_pattern_catches_each_kind_of_lock(string line) => Assert.Matches(Forbidden(), line);

    [Theory]
    [InlineData("// no lock here: the mailbox serializes")]
    [InlineData("Interlocked.Increment(ref n);")]
    [InlineData("var blocked = true;")]
    public void The_pattern_leaves_other_code_alone(string line) => Assert.DoesNotMatch(Forbidden(), StripComment(line));

    private static string StripComment(string line)
    {
        int at = line.IndexOf("//", StringComparison.Ordinal);
        return at >= 0 ? line[..at] : line;
    }

    private static string RepoRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Actors.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new DirectoryNotFoundException("Actors.sln not found above the test binaries");
    }

    [GeneratedRegex(@"\block\s*\(|\bMonitor\.|\bSemaphoreSlim\b|\bSemaphore\b|\bMutex\b|\bSpinLock\b|\bReaderWriterLock(Slim)?\b|\bLock\b\s+\w+\s*=|\bnew\s+Lock\s*\(")]
    private static partial Regex Forbidden();
}
