using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.MemoryLayer;
using DmaSg.Memory.Dma;

namespace DmaSg.Benchmarks.ActorDesigns;

/// <summary>
/// P5 through the Tell protocol: a client actor (the holder of every ref) keeps a window of Allocate
/// requests in flight until the count is reached, and later a window of Puts. Destroy returns once the
/// allocator counts no live buffer actor, so the next measurement starts from an empty heap of actors.
/// </summary>
public sealed class TellScale : IScaleDesign
{
    private const int Window = 256;
    private readonly ActorHost _host;
    private readonly IActorRef _allocator;
    private readonly IActorRef _client;

    public TellScale(ActorHost host, ScaleCase scaleCase)
    {
        _host = host ?? throw new ArgumentNullException(nameof(host));
        ArgumentNullException.ThrowIfNull(scaleCase);
        _allocator = host.StartAllocator("p5-tell", MemoryScale.ScaleArenaSize(scaleCase), ActorHost.Spec("p5", DeviceKind.Coherent));
        _client = host.Spawn(Props.Create(() => new Client(_allocator, scaleCase.BufferSize)), "p5-client");
    }

    public string Name => "Actors.Tell";

    public async ValueTask PrepareAsync()
    {
        for (int pass = 0; pass < 2; pass++)
        {
            AllocatorStats stats = await _host.Ask<AllocatorStats>(_allocator, GetStats.Instance).ConfigureAwait(false);
            long blocks = stats.FreePages * stats.PageSize / IScaleDesign.ArenaBlock;
            var all = new List<IActorRef>();
            for (long i = 0; i < blocks; i++)
            {
                all.Add((await _host.Ask<BufferCreated>(_allocator, new Allocate(IScaleDesign.ArenaBlock, DmaDirection.Bidirectional, "p5", _client)).ConfigureAwait(false)).Buffer);
            }

            foreach (var b in all)
            {
                await _host.Ask<RefDropped>(b, new Put(_client)).ConfigureAwait(false);
            }

            await WaitForNoBuffersAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask CreateAsync(int count)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _client.Tell(new Client.Create(count, done));
        await done.Task.ConfigureAwait(false);
    }

    public async ValueTask DestroyAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _client.Tell(new Client.Destroy(done));
        await done.Task.ConfigureAwait(false);

        await WaitForNoBuffersAsync().ConfigureAwait(false);
    }

    /// <summary>A buffer answers the last Put, then stops (and its pages go home); waits until every one has.</summary>
    private async Task WaitForNoBuffersAsync()
    {
        while ((await _host.Ask<AllocatorStats>(_allocator, GetStats.Instance).ConfigureAwait(false)).LiveBuffers > 0)
        {
            await Task.Delay(2).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(_client).ConfigureAwait(false);
        await _host.StopAsync(_allocator).ConfigureAwait(false);
    }

    private sealed class Client(IActorRef allocator, long size) : UntypedActor
    {
        private readonly List<IActorRef> _live = [];
        private TaskCompletionSource? _done;
        private int _target;
        private int _sent;
        private int _answered;

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case Create c:
                    _done = c.Done;
                    _target = _live.Count + c.Count;
                    _live.Capacity = Math.Max(_live.Capacity, _target);
                    _sent = _live.Count;
                    while (_sent < _target && _sent - _live.Count < Window)
                    {
                        SendAllocate();
                    }

                    break;
                case BufferCreated b:
                    _live.Add(b.Buffer);
                    if (_sent < _target)
                    {
                        SendAllocate();
                    }
                    else if (_live.Count == _target)
                    {
                        _done?.TrySetResult();
                    }

                    break;
                case Destroy d:
                    _done = d.Done;
                    _answered = 0;
                    _sent = 0;
                    if (_live.Count == 0)
                    {
                        d.Done.TrySetResult();
                        break;
                    }

                    while (_sent < _live.Count && _sent < Window)
                    {
                        _live[_sent++].Tell(new Put(Self));
                    }

                    break;
                case RefDropped:
                    _answered++;
                    if (_sent < _live.Count)
                    {
                        _live[_sent++].Tell(new Put(Self));
                    }
                    else if (_answered == _live.Count)
                    {
                        _live.Clear();
                        _done?.TrySetResult();
                    }

                    break;
                case DmaSgFailure f:
                    _done?.TrySetException(new InvalidOperationException($"p5 client: {f}"));
                    break;
                default:
                    Unhandled(message);
                    break;
            }
        }

        private void SendAllocate()
        {
            _sent++;
            allocator.Tell(new Allocate(size, DmaDirection.Bidirectional, "p5", Self));
        }

        public sealed record Create(int Count, TaskCompletionSource Done);

        public sealed record Destroy(TaskCompletionSource Done);
    }
}
