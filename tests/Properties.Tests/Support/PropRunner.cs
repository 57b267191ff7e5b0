using System.Diagnostics;
using System.Text;
using FsCheck;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using Xunit.Abstractions;

namespace DmaSg.Properties.Tests.Support;

/// <summary>
/// Runs an FsCheck property with a seed (fixed per property unless DMASG_PROPS_SEED says "random" or a number),
/// a case budget (scaled by DMASG_PROPS_SCALE), or the replay given in DMASG_PROPS_REPLAY="seed,gamma[,size]".
/// On failure it throws with the shrunk counterexample as user-level calls, the replay line, and a fresh re-run.
/// </summary>
public static class PropRunner
{
    public static double Scale { get; } =
        double.TryParse(Environment.GetEnvironmentVariable("DMASG_PROPS_SCALE"), System.Globalization.CultureInfo.InvariantCulture, out double s) ? s : 1.0;

    /// <summary>
    /// Sequences start at this many calls: FsCheck grows the size from StartSize to EndSize over the run, and below
    /// about four calls (allocate, export, attach, map) the interesting states are out of reach. Shrinking still
    /// goes below it.
    /// </summary>
    public const int StartSize = 8;

    /// <summary>DMASG_PROPS_VERBOSE=1 adds a histogram of the replies each kind of call got (generator coverage).</summary>
    public static bool Verbose { get; } = Environment.GetEnvironmentVariable("DMASG_PROPS_VERBOSE") == "1";

    /// <summary>Cases to run for a property whose CI budget is <paramref name="ci"/>.</summary>
    public static int Budget(int ci) => Math.Max(1, (int)(ci * Scale));

    public static void Check(
        string name,
        Property property,
        int maxTest,
        int endSize,
        ITestOutputHelper? output,
        Func<object, string>? render = null,
        Func<object, Task<string>>? replay = null,
        ulong? seed = null)
    {
        (Rnd rnd, int? size, string how) = seed is ulong s ? (new Rnd(s), null, $"seed {new Rnd(s).Seed},{new Rnd(s).Gamma}") : Seed(name);
        var runner = new CapturingRunner();
        Config config = Config.Quick
            .WithName(name)
            .WithMaxTest(size is null ? maxTest : 1)
            .WithStartSize(Math.Min(StartSize, endSize))
            .WithEndSize(endSize)
            .WithQuietOnSuccess(true)
            .WithRunner(runner)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(rnd, size is int n ? FSharpOption<int>.Some(n) : FSharpOption<int>.None)));
        var sw = Stopwatch.StartNew();
        long cases0 = CaseStats.Cases, ops0 = CaseStats.Ops;
        FsCheck.Check.One(config, property);
        sw.Stop();

        TestResult result = runner.Result ?? throw new InvalidOperationException($"{name}: FsCheck reported no result");
        if (result is not TestResult.Failed && ProcSelf.Leftovers(Sut.Sut.ArenaPrefix) is { Count: > 0 } left)
        {
            // Each case's arena has its own name, so the name says which case leaked.
            throw new Xunit.Sdk.XunitException($"{name}: after all cases, arenas are still open or mapped:{Environment.NewLine}{string.Join(Environment.NewLine, left)}");
        }

        if (result is TestResult.Failed failed)
        {
            throw new Xunit.Sdk.XunitException(Report(name, how, failed, sw.Elapsed, render, replay));
        }

        if (result is TestResult.Exhausted)
        {
            throw new Xunit.Sdk.XunitException($"{name}: gave up after {runner.Tests} cases (too many discarded)");
        }

        output?.WriteLine($"{name}: {runner.Tests} cases passed in {sw.Elapsed.TotalSeconds:F1} s ({how}); " +
            $"{CaseStats.Cases - cases0} systems ran {CaseStats.Ops - ops0} calls, longest sequence so far {CaseStats.Longest}, leaks {CaseStats.Leaks}");
        if (Verbose)
        {
            // Which replies the calls got: a quick look at what the generators reach.
            output?.WriteLine(string.Join(Environment.NewLine, Sut.Driver.OutcomeCounts.OrderBy(k => k.Key).Select(k => $"    {k.Key}: {k.Value}")));
        }
    }

    private static (Rnd Rnd, int? Size, string How) Seed(string name)
    {
        string? replay = Environment.GetEnvironmentVariable("DMASG_PROPS_REPLAY");
        if (!string.IsNullOrWhiteSpace(replay))
        {
            string[] parts = replay.Split(',', StringSplitOptions.TrimEntries);
            int? size = parts.Length > 2 ? int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture) : null;
            return (new Rnd(ulong.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), ulong.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)),
                size, $"replaying {replay}");
        }

        string? seedText = Environment.GetEnvironmentVariable("DMASG_PROPS_SEED");
        ulong seed = seedText switch
        {
            null or "" => Fnv1a(name),
            "random" => (ulong)Random.Shared.NextInt64(),
            _ => ulong.Parse(seedText, System.Globalization.CultureInfo.InvariantCulture),
        };
        var rnd = new Rnd(seed);
        return (rnd, null, $"seed {rnd.Seed},{rnd.Gamma}");
    }

    /// <summary>A stable seed per property name (string.GetHashCode is randomized per process).</summary>
    private static ulong Fnv1a(string text)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            h = (h ^ b) * 1099511628211UL;
        }

        return h;
    }

    private static string Report(string name, string how, TestResult.Failed failed, TimeSpan elapsed,
        Func<object, string>? render, Func<object, Task<string>>? replay)
    {
        TestData data = failed.Item1;
        object[] shrunk = ListModule.ToArray(failed.Item3);
        var sb = new StringBuilder();
        sb.AppendLine($"{name}: falsified after {data.NumberOfTests} cases and {data.NumberOfShrinks} shrinks ({elapsed.TotalSeconds:F1} s, {how}).");
        sb.AppendLine($"Replay this case: DMASG_PROPS_REPLAY=\"{failed.Item6.Seed},{failed.Item6.Gamma},{failed.Item7}\" (the whole run: seed {failed.Item5.Seed},{failed.Item5.Gamma})");
        foreach (string label in data.Labels)
        {
            sb.AppendLine($"Failure: {label}");
        }

        if (failed.Item4 is Outcome.Failed { Item: { } exception } && !exception.Message.Contains("Expected true, got false", StringComparison.Ordinal))
        {
            sb.AppendLine($"Failure: {exception.Message}");
        }

        sb.AppendLine("Shrunk counterexample:");
        foreach (object arg in shrunk)
        {
            sb.AppendLine(render is null ? arg.ToString() : render(arg));
            if (replay is not null)
            {
                try
                {
                    sb.AppendLine(replay(arg).GetAwaiter().GetResult());
                }
                catch (Exception e)
                {
                    sb.AppendLine($"(the replay threw {e})");
                }
            }
        }

        return sb.ToString();
    }

    private sealed class CapturingRunner : IRunner
    {
        public int Tests { get; private set; }

        public TestResult? Result { get; private set; }

        public void OnStartFixture(Type t)
        {
        }

        public void OnArguments(int ntest, FSharpList<object> args, FSharpFunc<int, FSharpFunc<FSharpList<object>, string>> every) => Tests = ntest + 1;

        public void OnShrink(FSharpList<object> args, FSharpFunc<FSharpList<object>, string> everyShrink)
        {
        }

        public void OnFinished(string name, TestResult testResult) => Result = testResult;
    }
}
