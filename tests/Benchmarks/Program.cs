using BenchmarkDotNet.Running;
using DmaSg.Benchmarks;
using DmaSg.Benchmarks.Bdn;

// `bdn ...` hands the rest to BenchmarkDotNet (in-process unless told otherwise); anything else is the quick/full runner.
if (args.Length > 0 && args[0] == "bdn")
{
    BenchmarkSwitcher.FromAssembly(typeof(BdnConfig).Assembly).Run(BdnConfig.WithInProcess(args[1..]), new BdnConfig());
    return 0;
}

return await BenchRunner.RunAsync(args, Console.Out);
