using Akka.Actor;
using Akka.Configuration;
using DmaSg.Actors.Facade;
using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.Harness;
using DmaSg.Memory.Dma;

namespace DmaSg.Benchmarks.ActorDesigns;

/// <summary>
/// An ActorSystem configured by HOCON the way a user would (the BufferManager extension starts its
/// allocator), shared by the facade designs of a run.
/// </summary>
public sealed class FacadeHost : IAsyncDisposable
{
    private FacadeHost(ActorSystem system)
    {
        System = system;
        Manager = BufferManager.Get(system);
    }

    public ActorSystem System { get; }

    public BufferManager Manager { get; }

    public static ValueTask<FacadeHost> SharedAsync(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.SharedAsync("facade", () => ValueTask.FromResult(Create()));
    }

    /// <summary>A host of one's own (BenchmarkDotNet classes); dispose it to terminate the system.</summary>
    public static FacadeHost Create()
    {
        // No DMA-API checker: the other designs run without one too.
        Config config = ConfigurationFactory.ParseString("""
            akka.loglevel = WARNING
            akka.stdout-loglevel = WARNING
            akka.log-dead-letters = off
            akka.log-dead-letters-during-shutdown = off
            dmasg {
              arena-size = 256 MiB
              arena-name = bench-facade
              checker = off
              devices.p1 { model = coherent }
            }
            """);
        return new FacadeHost(ActorSystem.Create("dmasg-bench-facade", config));
    }

    public async ValueTask DisposeAsync() => await System.Terminate().ConfigureAwait(false);
}

/// <summary>
/// P1 through the facade: <c>await using var buf = await client.AllocateAsync(size)</c>, as the README shows;
/// disposing the handle drops its ref. Each call is an Ask (DmaSgAsk) to the allocator, then to the buffer.
/// </summary>
public sealed class FacadeAllocFree : IAllocFreeDesign
{
    private readonly DmaSgClient _client;

    public FacadeAllocFree(FacadeHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        _client = host.Manager.CreateClient();
    }

    public string Name => "Actors.Facade";

    public async ValueTask RunAsync(long size, int count)
    {
        for (int i = 0; i < count; i++)
        {
            await using var buf = await _client.AllocateAsync(size, DmaDirection.Bidirectional, "p1").ConfigureAwait(false);
        }
    }

    public ValueTask DisposeAsync() => _client.DisposeAsync();
}
