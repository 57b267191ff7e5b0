using System.Diagnostics;
using DmaSg.Benchmarks;

namespace DmaSg.Node;

/// <summary>
/// `bench [--quick] [--json PATH] [--only P1,P3] [--rounds N]`: the P1–P5 workloads, each design against its
/// baseline in alternating rounds. Tiered JIT makes short rounds measure tier-0 code, and it cannot be turned
/// off once the process runs, so with it on the verb runs itself again with DOTNET_TieredCompilation=0.
/// </summary>
public static class BenchVerb
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (!TieredJitIsOn() || Environment.GetEnvironmentVariable("DMASG_BENCH_CHILD") == "1" || Environment.ProcessPath is null)
        {
            return await BenchRunner.RunAsync(args, Console.Out);
        }

        var start = new ProcessStartInfo(Environment.ProcessPath) { UseShellExecute = false };
        // Under `dotnet run` the process is the app host; under `dotnet DmaSg.Node.dll` it is dotnet itself.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(BenchVerb).Assembly.Location);
        }

        start.ArgumentList.Add("bench");
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["DOTNET_TieredCompilation"] = "0";
        start.Environment["DMASG_BENCH_CHILD"] = "1";
        using Process child = Process.Start(start) ?? throw new InvalidOperationException("could not start the benchmark process");
        await child.WaitForExitAsync();
        return child.ExitCode;
    }

    private static bool TieredJitIsOn() =>
        Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") != "0"
        && !(AppContext.TryGetSwitch("System.Runtime.TieredCompilation", out bool on) && !on);
}
