using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;

namespace DmaSg.Benchmarks.Bdn;

/// <summary>The default config plus the MemoryDiagnoser (allocated bytes per operation).</summary>
public sealed class BdnConfig : ManualConfig
{
    public BdnConfig()
    {
        Add(DefaultConfig.Instance);
        AddDiagnoser(MemoryDiagnoser.Default);
    }

    /// <summary>
    /// Adds --inProcess unless the caller chose a toolchain: BenchmarkDotNet's generated out-of-process project
    /// would sit under this repository and inherit its Directory.Build.props and central package versions.
    /// </summary>
    public static string[] WithInProcess(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        bool chosen = args.Any(a => a is "-i" or "--inProcess" or "--toolchain" or "-t" or "--runtimes" or "-r");
        return chosen ? args : [.. args, "--inProcess"];
    }
}
