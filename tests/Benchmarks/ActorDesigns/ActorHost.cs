using Akka.Actor;
using Akka.Configuration;
using DmaSg.Actors;
using DmaSg.Actors.Allocator;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.Harness;
using DmaSg.Memory.Dma;

namespace DmaSg.Benchmarks.ActorDesigns;

/// <summary>
/// One ActorSystem for every actor design of a run (shared through the BenchContext); each design starts
/// its own allocator (own arena, own devices) and stops it when disposed.
/// </summary>
public sealed class ActorHost : IAsyncDisposable
{
    private static readonly Config BenchConfig = ConfigurationFactory.ParseString("""
        akka.loglevel = WARNING
        akka.stdout-loglevel = WARNING
        akka.log-dead-letters = off
        akka.log-dead-letters-during-shutdown = off
        """);

    private int _next;

    private ActorHost() => System = ActorSystem.Create("dmasg-bench", BenchConfig);

    public ActorSystem System { get; }

    public static ValueTask<ActorHost> SharedAsync(BenchContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.SharedAsync("akka", async () =>
        {
            var host = Create();
            await host.WarmUpAsync(context.Plan.JitWarmup * 2).ConfigureAwait(false);
            return host;
        });
    }

    /// <summary>
    /// Runs allocate/put through the Tell protocol for <paramref name="time"/>. A fresh process ran its first
    /// second of actor traffic several times slower than the rest (dispatcher and thread pool settling), which
    /// the first case measured instead of the design.
    /// </summary>
    public async Task WarmUpAsync(TimeSpan time)
    {
        await using var warm = new TellAllocFree(this, new AllocFreeCase(4096, "warm-up"));
        var clock = global::System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < time)
        {
            await warm.RunAsync(4096, 200).ConfigureAwait(false);
        }
    }

    /// <summary>A host of one's own (BenchmarkDotNet classes); dispose it to terminate the system.</summary>
    public static ActorHost Create() => new();

    /// <summary>
    /// An allocator for a benchmark: no DMA-API checker (the other designs run without one too), devices as given.
    /// </summary>
    public IActorRef StartAllocator(string purpose, long arenaSize, params DeviceSpec[] devices) =>
        StartAllocator(purpose, arenaSize, devices, []);

    /// <summary>
    /// An allocator with devices it builds (<paramref name="specs"/>) and devices the caller built and keeps
    /// (<paramref name="devices"/>: a driver that DMAs through them itself; the caller disposes them).
    /// </summary>
    public IActorRef StartAllocator(string purpose, long arenaSize, IReadOnlyList<DeviceSpec> specs, IReadOnlyList<IDmaDevice> devices) =>
        System.ActorOf(AllocatorActor.Props(new DmaSgSettings
        {
            ArenaSize = arenaSize,
            ArenaName = $"bench-{purpose}",
            DeviceSpecs = specs,
            Devices = devices,
            Checker = false,
        }), $"dmasg-{purpose}-{Interlocked.Increment(ref _next)}");

    /// <summary>An actor that only holds refs (a client whose death would release them).</summary>
    public IActorRef NewHolder() => System.ActorOf(Props.Create(() => new HolderActor()), $"holder-{Interlocked.Increment(ref _next)}");

    public IActorRef Spawn(Props props, string name) => System.ActorOf(props, $"{name}-{Interlocked.Increment(ref _next)}");

    public static DeviceSpec Spec(string name, DeviceKind kind) => new(name, kind switch
    {
        DeviceKind.Coherent => DeviceModel.Coherent,
        DeviceKind.Iommu => DeviceModel.Iommu,
        DeviceKind.Bounce => DeviceModel.Bounce,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    });

    /// <summary>Asks through DmaSgAsk and unwraps the reply (a failure throws).</summary>
    public Task<T> Ask<T>(IActorRef target, IDmaSgRequest request)
        where T : IDmaSgReply =>
        DmaSgAsk.Request<T>(System, target, request, TimeSpan.FromSeconds(30));

    /// <summary>Stops an actor and waits for it (an allocator stops its buffers first, then frees its arena).</summary>
    public async Task StopAsync(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await actor.GracefulStop(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await System.Terminate().ConfigureAwait(false);

    private sealed class HolderActor : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            // Holds refs; replies to nothing.
        }
    }
}

/// <summary>
/// Base of the Tell-protocol clients: one request in flight, its reply handed to a continuation. A
/// failure reply or an exception fails the current run.
/// </summary>
public abstract class TellDriver : UntypedActor
{
    private Action<IDmaSgReply>? _then;
    private TaskCompletionSource<RoundSample>? _run;

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case StartRun start:
                _run = start.Done;
                Guard(() => OnStart(start.Ops));
                break;
            case DmaSgFailure f:
                Fail(new InvalidOperationException($"{Self.Path.Name}: {f}"));
                break;
            case IDmaSgReply reply when _then is not null:
                Action<IDmaSgReply> then = _then;
                _then = null;
                Guard(() => then(reply));
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>Starts a run of <paramref name="ops"/> operations; call <see cref="Complete"/> at the end.</summary>
    protected abstract void OnStart(int ops);

    /// <summary>Tells <paramref name="request"/> to <paramref name="target"/>; <paramref name="then"/> gets the reply.</summary>
    protected void Send(IActorRef target, IDmaSgRequest request, Action<IDmaSgReply> then)
    {
        _then = then;
        target.Tell(request, Self);
    }

    protected void Complete(RoundSample sample)
    {
        var run = _run;
        _run = null;
        run?.TrySetResult(sample);
    }

    protected static T As<T>(IDmaSgReply reply)
        where T : IDmaSgReply =>
        reply is T t ? t : throw new InvalidOperationException($"expected {typeof(T).Name}, got {reply}");

    private void Guard(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    private void Fail(Exception e)
    {
        _then = null;
        var run = _run;
        _run = null;
        run?.TrySetException(e);
    }

    /// <summary>Starts a run; the task completes with what the driver did.</summary>
    public static Task<RoundSample> RunAsync(IActorRef driver, int ops)
    {
        ArgumentNullException.ThrowIfNull(driver);
        var done = new TaskCompletionSource<RoundSample>(TaskCreationOptions.RunContinuationsAsynchronously);
        driver.Tell(new StartRun(ops, done));
        return done.Task;
    }

    private sealed record StartRun(int Ops, TaskCompletionSource<RoundSample> Done);
}
