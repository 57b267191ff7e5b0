using DmaSg.FdPeer;

namespace DmaSg.Kernel.Tests;

/// <summary>xUnit v3's generated entry point, plus the child mode of the cross-process tests.</summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == Peer.Verb)
        {
            return Peer.Run(args);
        }

        if (args.Any(a => a is "--server" or "--internal-msbuild-node"))
        {
            return Xunit.MicrosoftTestingPlatform.TestPlatformTestFramework
                .RunAsync(args, SelfRegisteredExtensions.AddSelfRegisteredExtensions).GetAwaiter().GetResult();
        }

        return Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args).GetAwaiter().GetResult();
    }
}
