using DmaSg.Memory;

namespace DmaSg.Node;

/// <summary>A command-line verb: its name, a one-line summary, and what it runs with the arguments after it.</summary>
public sealed record Verb(string Name, string Summary, Func<string[], Task<int>> Run);

/// <summary>
/// The verb dispatcher: `dmasg VERB [ARGS]`. Exit codes: the verb's own, 1 when it fails with a typed
/// DmaSg error, 2 for a usage error (no verb, unknown verb, bad arguments) with the usage on stderr.
/// </summary>
public static class Cli
{
    public const int UsageExit = 2;

    public static async Task<int> RunAsync(IReadOnlyList<Verb> verbs, string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0)
        {
            await stderr.WriteLineAsync("dmasg: no verb given");
            WriteUsage(verbs, stderr);
            return UsageExit;
        }

        string name = args[0];
        if (name is "help" or "-h" or "--help")
        {
            WriteUsage(verbs, stdout);
            return 0;
        }

        Verb? verb = verbs.FirstOrDefault(v => v.Name == name);
        if (verb is null)
        {
            await stderr.WriteLineAsync($"dmasg: unknown verb '{name}'");
            WriteUsage(verbs, stderr);
            return UsageExit;
        }

        try
        {
            return await verb.Run(args[1..]);
        }
        catch (Hosting.UsageException ex)
        {
            await stderr.WriteLineAsync($"dmasg {name}: {ex.Message}");
            WriteUsage(verbs, stderr);
            return UsageExit;
        }
        catch (DmaSgException ex)
        {
            // A typed failure of the memory layer is an answer, not a crash: say it and exit 1.
            await stderr.WriteLineAsync($"dmasg {name}: {ex.Message}");
            return 1;
        }
    }

    public static void WriteUsage(IReadOnlyList<Verb> verbs, TextWriter to)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        ArgumentNullException.ThrowIfNull(to);
        int width = verbs.Select(v => v.Name.Length).Append("help".Length).Max();
        to.WriteLine("usage: dmasg <verb> [arguments]   (from the repository: dotnet run --project src/Node -- <verb>)");
        to.WriteLine();
        to.WriteLine("verbs:");
        foreach (Verb v in verbs)
        {
            to.WriteLine($"  {v.Name.PadRight(width)}  {v.Summary}");
        }

        to.WriteLine($"  {"help".PadRight(width)}  show this help");
    }

    /// <summary>Wraps a verb that takes no arguments: any argument is a usage error.</summary>
    public static Func<string[], Task<int>> NoArguments(string verb, Func<int> run) => args =>
    {
        if (args.Length > 0)
        {
            Console.Error.WriteLine($"dmasg {verb}: takes no arguments, got '{string.Join(' ', args)}'");
            return Task.FromResult(UsageExit);
        }

        return Task.FromResult(run());
    };
}
