using DmaSg.Node;
using DmaSg.Node.Demo;
using DmaSg.Node.Verbs;

// stdout carries the verbs' output only: anything else that writes to Console.Out (Akka's built-in logger while the
// ActorSystem shuts down) goes to stderr with the logs.
TextWriter stdout = Console.Out;
Console.SetOut(Console.Error);

// The verbs, one line each: name, one-line summary, and what runs it (given the arguments after the verb).
Verb[] verbs =
[
    new("run", RunVerb.Summary, a => RunVerb.RunAsync(a, stdout, Environment.GetEnvironmentVariables())),
    new("demo", ClusterDemo.Summary, a => ClusterDemo.RunAsync(a, stdout, Environment.GetEnvironmentVariables())),
    new("stats", StatsVerb.Summary, a => StatsVerb.RunAsync(a, stdout, Environment.GetEnvironmentVariables())),
    new("arena", "allocate buffers of several sizes in a memfd page arena, fragment it, print free lists and sg segments",
        Cli.NoArguments("arena", () => ArenaDemo.Run(stdout))),
];

return await Cli.RunAsync(verbs, args, stdout, Console.Error);
