using System.Runtime.InteropServices;

namespace DmaSg.Benchmarks.Harness;

/// <summary>What the figures were measured on.</summary>
public sealed record MachineInfo(string Cpu, int Cores, string Os, string Runtime, long MemoryBytes, int PageSize, bool ServerGc, bool TieredJit)
{
    public static MachineInfo Current()
    {
        string cpu = "unknown";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException)
        {
            // Not Linux or no procfs: the model stays unknown.
        }

        return new MachineInfo(cpu, Environment.ProcessorCount, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription,
            GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, Environment.SystemPageSize, System.Runtime.GCSettings.IsServerGC, TieredJitEnabled());
    }

    /// <summary>Tiered compilation, from the environment (DOTNET_TieredCompilation) or the runtimeconfig; on by default.</summary>
    public static bool TieredJitEnabled()
    {
        string? env = Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") ?? Environment.GetEnvironmentVariable("COMPlus_TieredCompilation");
        if (env is not null)
        {
            return env.Trim() != "0";
        }

        return AppContext.GetData("System.Runtime.TieredCompilation") is not (false or "false" or "False");
    }

    public override string ToString() =>
        $"{Cpu}, {Cores} cores, {MemoryBytes >> 30} GiB, {Os}, {Runtime}, page {PageSize} B, {(ServerGc ? "server" : "workstation")} GC, tiered JIT {(TieredJit ? "on" : "off")}";
}
