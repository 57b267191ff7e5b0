using DmaSg.Node;
using DmaSg.Node.Demo;
using DmaSg.Node.Verbs;

// The verbs, one line each: name, one-line summary, and what runs it (given the arguments after the verb).
Verb[] verbs =
[
    new("run", RunVerb.Summary, a => RunVerb.RunAsync(a, Console.Out, Environment.GetEnvironmentVariables())),
    new("demo", ClusterDemo.Summary, a => ClusterDemo.RunAsync(a, Console.Out, Environment.GetEnvironmentVariables())),
    new("stats", StatsVerb.Summary, a => StatsVerb.RunAsync(a, Console.Out, Environment.GetEnvironmentVariables())),
    new("pipeline", "the same camera -> encoder pipeline in this process, without a cluster, then 'pages leaked' from the stats",
        PipelineDemo.RunAsync),
    new("arena", "allocate buffers of several sizes in a memfd page arena, fragment it, print free lists and sg segments",
        Cli.NoArguments("arena", () => ArenaDemo.Run(Console.Out))),
    new("bench", "P1-P5 benchmarks, each design against its baseline, as a table of ratios plus JSON ([--quick] [--json PATH] [--only P1,P3])",
        BenchVerb.RunAsync),
];

return await Cli.RunAsync(verbs, args, Console.Out, Console.Error);
