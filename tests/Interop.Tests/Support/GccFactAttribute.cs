namespace DmaSg.Interop.Tests.Support;

/// <summary>
/// A [Fact] that the runner reports as skipped, with the reason, when no gcc is on PATH.
/// xUnit 2 has no dynamic skip, so the decision is made when the attribute is constructed.
/// </summary>
public sealed class GccFactAttribute : FactAttribute
{
    private const string NoGccReason = "gcc not found on PATH: kernel ABI check skipped";

    public GccFactAttribute()
    {
        if (Gcc.Find() is null)
        {
            Skip = NoGccReason;
        }
    }
}

internal static class Gcc
{
    /// <summary>The first executable "gcc" on PATH, or null.</summary>
    public static string? Find()
    {
        string path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (string dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "gcc");
            if (!OperatingSystem.IsWindows() && File.Exists(candidate) &&
                (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
            {
                return candidate;
            }
        }

        return null;
    }
}
