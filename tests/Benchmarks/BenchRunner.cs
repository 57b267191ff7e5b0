using System.Diagnostics;
using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.Harness;
using DmaSg.Benchmarks.Workloads;

namespace DmaSg.Benchmarks;

/// <summary>
/// The <c>bench</c> verb: P1 to P5 in one process, each design against its baseline in alternating
/// rounds; one table of absolute figures and ratios on <c>output</c>, and a JSON file.
/// Exit codes: 0 done, 1 a workload failed, 2 bad arguments.
/// </summary>
public static class BenchRunner
{
    public static Task<int> RunAsync(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        bool quick = args.Contains("--quick") || args.Contains("-q");
        return RunAsync(args, output, DesignCatalog.Default(quick));
    }

    public static async Task<int> RunAsync(string[] args, TextWriter output, DesignCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(catalog);
        var options = BenchOptions.Parse(args, out string? error);
        if (options is null)
        {
            output.WriteLine($"bench: {error}");
            output.WriteLine(BenchOptions.Usage);
            return 2;
        }

        var machine = MachineInfo.Current();
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        output.WriteLine($"DmaSg bench ({(options.Quick ? "quick" : "full")}) on {machine}");
        if (machine.TieredJit && options.Quick)
        {
            output.WriteLine("note: tiered JIT is on, so early quick rounds may run tier-0 code; DOTNET_TieredCompilation=0 gives steadier figures");
        }

        var rows = new List<BenchRow>();
        var failures = new List<string>();
        await using (var context = new BenchContext(options, catalog, output))
        {
            foreach (var (id, title, run) in Workloads())
            {
                if (!options.Runs(id))
                {
                    continue;
                }

                output.WriteLine($"[{clock.Elapsed.TotalSeconds,5:F1}s] {id} {title}");
                await output.FlushAsync().ConfigureAwait(false);
                try
                {
                    rows.AddRange(await run(context).ConfigureAwait(false));
                }
                catch (Exception e)
                {
                    // One broken workload must not hide the others' figures.
                    failures.Add($"{id}: {e.GetType().Name}: {e.Message}");
                    output.WriteLine($"  {id} failed: {e}");
                }
            }
        }

        clock.Stop();
        output.WriteLine();
        output.WriteLine("Ratios are throughput against the named design (higher is better), except P4 (segments against the optimum, lower is better)");
        output.WriteLine("and P5 bookkeeping (bytes against Memory, lower is better).");
        output.WriteLine();
        Report.WriteTable(output, rows);
        output.WriteLine();
        var report = new
        {
            machine,
            mode = options.Quick ? "quick" : "full",
            command = "bench " + string.Join(' ', args),
            startedUtc = started,
            seconds = clock.Elapsed.TotalSeconds,
            plan = new { options.Plan.Rounds, warmupMs = options.Plan.Warmup.TotalMilliseconds, roundMs = options.Plan.RoundTime.TotalMilliseconds },
            rows,
            failures,
        };
        await Report.WriteJsonAsync(options.JsonPath, report).ConfigureAwait(false);
        output.WriteLine($"{rows.Count} rows in {clock.Elapsed.TotalSeconds:F1}s; JSON: {Path.GetFullPath(options.JsonPath)}");
        foreach (string f in failures)
        {
            output.WriteLine($"FAILED {f}");
        }

        return failures.Count == 0 ? 0 : 1;
    }

    private static IEnumerable<(string Id, string Title, Func<BenchContext, Task<List<BenchRow>>> Run)> Workloads()
    {
        yield return (P1AllocZeroFree.Id, "alloc+zero+free vs Limit and Raw", P1AllocZeroFree.RunAsync);
        yield return (P2FramePipeline.Id, "frame pipeline vs LockedPort", P2FramePipeline.RunAsync);
        yield return (P3CachedMap.Id, "cached map/unmap vs LockedPort", P3CachedMap.RunAsync);
        yield return (P4Fragmentation.Id, "fragmentation: sg segments per 3 MiB buffer", P4Fragmentation.RunAsync);
        yield return (P5Scale.Id, "scale: 100k live buffers", P5Scale.RunAsync);
    }
}
