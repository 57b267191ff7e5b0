namespace DmaSg.Benchmarks.Harness;

/// <summary>Command line of the runner: <c>[--quick] [--json PATH] [--only P1,P3] [--rounds N]</c>.</summary>
public sealed record BenchOptions(bool Quick, string JsonPath, IReadOnlySet<string> Only, int? Rounds)
{
    public const string DefaultJsonPath = "bench-results.json";

    public const string Usage =
        "bench [--quick] [--json PATH] [--only P1,P2,P3,P4,P5] [--rounds N]\n" +
        "  --quick   short rounds: all workloads in under a minute on 2 cores\n" +
        "  --json    where to write the machine-readable results (default bench-results.json)\n" +
        "  --only    run only these workloads\n" +
        "  --rounds  alternating rounds per design (default 5 quick, 7 full)";

    public static readonly string[] Workloads = ["P1", "P2", "P3", "P4", "P5"];

    public RoundPlan Plan => Rounds is int r ? BasePlan with { Rounds = r } : BasePlan;

    /// <summary>Without tiered compilation there is no tier-up to wait for: the first case warms up like the others (twice as long).</summary>
    private RoundPlan BasePlan
    {
        get
        {
            RoundPlan plan = Quick ? RoundPlan.Quick : RoundPlan.Full;
            return MachineInfo.TieredJitEnabled() ? plan : plan with { JitWarmup = plan.Warmup * 2 };
        }
    }

    public bool Runs(string workload) => Only.Count == 0 || Only.Contains(workload);

    /// <summary>Parses the arguments; null and an error message when they are wrong.</summary>
    public static BenchOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        ArgumentNullException.ThrowIfNull(args);
        bool quick = false;
        string json = DefaultJsonPath;
        var only = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        int? rounds = null;
        error = null;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            switch (a)
            {
                case "--quick" or "-q":
                    quick = true;
                    break;
                case "--json" when i + 1 < args.Count:
                    json = args[++i];
                    break;
                case "--only" when i + 1 < args.Count:
                    foreach (string w in args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (!Workloads.Contains(w, StringComparer.OrdinalIgnoreCase))
                        {
                            error = $"unknown workload '{w}' (known: {string.Join(", ", Workloads)})";
                            return null;
                        }

                        only.Add(w.ToUpperInvariant());
                    }

                    break;
                case "--rounds" when i + 1 < args.Count && int.TryParse(args[i + 1], out int r) && r >= 1:
                    rounds = r;
                    i++;
                    break;
                default:
                    error = $"unknown or incomplete argument '{a}'";
                    return null;
            }
        }

        return new BenchOptions(quick, json, only, rounds);
    }
}
