using System.Diagnostics;
using System.Globalization;
using DmaSg.Properties.Tests.Support;
using Xunit.Abstractions;

namespace DmaSg.Properties.Tests.Soak;

/// <summary>
/// Soak mode: DMASG_SOAK_MINUTES=N runs every property round after round, each round with a fresh random seed, for
/// N minutes, checking the arena fd and mappings in /proc after every case, and prints cases per second, the longest
/// sequence and the leak counters. Without the variable it runs one small round, so the soak path stays tested.
/// </summary>
public class SoakTests(ITestOutputHelper output)
{
    [Fact]
    public void Soak_runs_every_property_with_fresh_seeds_and_counts_leaks()
    {
        double minutes = double.TryParse(Environment.GetEnvironmentVariable("DMASG_SOAK_MINUTES"), CultureInfo.InvariantCulture, out double m) ? m : 0;
        var deadline = TimeSpan.FromMinutes(minutes);
        int previousEvery = Sut.Sut.ProcCheckEvery;
        Sut.Sut.ProcCheckEvery = minutes > 0 ? 1 : previousEvery;
        long cases0 = CaseStats.Cases, ops0 = CaseStats.Ops;
        var sw = Stopwatch.StartNew();
        int rounds = 0;
        try
        {
            do
            {
                rounds++;
                foreach ((string name, int budget, Action<int, ITestOutputHelper?, ulong?> run) in Suite.All)
                {
                    if (minutes > 0 && sw.Elapsed > deadline)
                    {
                        break;
                    }

                    ulong seed = (ulong)Random.Shared.NextInt64();
                    long before = CaseStats.Cases;
                    var round = Stopwatch.StartNew();
                    run(minutes > 0 ? Math.Max(5, budget / 20) : 3, null, seed);
                    Progress($"round {rounds} {name}: seed {seed}, {CaseStats.Cases - before} systems in {round.Elapsed.TotalSeconds:F1} s");
                }
            }
            while (minutes > 0 && sw.Elapsed < deadline);
        }
        finally
        {
            Sut.Sut.ProcCheckEvery = previousEvery;
            long cases = CaseStats.Cases - cases0;
            long ops = CaseStats.Ops - ops0;
            double s = sw.Elapsed.TotalSeconds;
            Progress($"soak: {s:F0} s, {rounds} rounds, {cases} systems ({cases / s:F1}/s), {ops} calls ({ops / s:F0}/s), " +
                $"longest sequence {CaseStats.Longest}, leaked after release: {CaseStats.Leaks}, arenas left open or mapped: {ProcSelf.Leftovers(Sut.Sut.ArenaPrefix).Count}");
        }

        Assert.Equal(new Sut.LeakCounts(0, 0, 0, 0), CaseStats.Leaks);
        Assert.Empty(ProcSelf.Leftovers(Sut.Sut.ArenaPrefix));
    }

    private void Progress(string line)
    {
        output.WriteLine(line);
        Console.Error.WriteLine(line);
    }
}
