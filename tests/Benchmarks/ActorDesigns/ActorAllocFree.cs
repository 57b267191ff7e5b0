using System.Diagnostics;
using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.Harness;
using DmaSg.Memory.Dma;

namespace DmaSg.Benchmarks.ActorDesigns;

/// <summary>
/// P1 through the actors' Tell protocol: a client actor (also the holder of the ref) tells the allocator
/// Allocate, and on BufferCreated tells the buffer Put; one buffer at a time.
/// </summary>
public sealed class TellAllocFree : IAllocFreeDesign
{
    private readonly ActorHost _host;
    private readonly AllocFreeCase _case;
    private readonly IActorRef _allocator;
    private readonly IActorRef _driver;

    public TellAllocFree(ActorHost host, AllocFreeCase allocCase)
    {
        _host = host ?? throw new ArgumentNullException(nameof(host));
        _case = allocCase ?? throw new ArgumentNullException(nameof(allocCase));
        _allocator = host.StartAllocator("p1-tell", 256L << 20, ActorHost.Spec("p1", DeviceKind.Coherent));
        _driver = host.Spawn(Props.Create(() => new Driver(_allocator, allocCase.Size)), "p1-tell-client");
    }

    public string Name => "Actors.Tell";

    public async ValueTask RunAsync(long size, int count)
    {
        if (size != _case.Size)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"this design was built for {_case.Size} bytes");
        }

        await TellDriver.RunAsync(_driver, count).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(_driver).ConfigureAwait(false);
        await _host.StopAsync(_allocator).ConfigureAwait(false);
    }

    private sealed class Driver : TellDriver
    {
        private readonly IActorRef _allocator;
        private readonly long _size;
        private readonly Action<IDmaSgReply> _onCreated;
        private readonly Action<IDmaSgReply> _onPut;
        private int _ops;
        private int _left;
        private long _start;

        public Driver(IActorRef allocator, long size)
        {
            _allocator = allocator;
            _size = size;
            _onCreated = r => Send(As<BufferCreated>(r).Buffer, new Put(Self), _onPut!);
            _onPut = r =>
            {
                As<RefDropped>(r);
                _left--;
                Next();
            };
        }

        protected override void OnStart(int ops)
        {
            _ops = _left = ops;
            _start = Stopwatch.GetTimestamp();
            Next();
        }

        private void Next()
        {
            if (_left == 0)
            {
                Complete(new RoundSample(_ops, Stopwatch.GetTimestamp() - _start));
                return;
            }

            Send(_allocator, new Allocate(_size, DmaDirection.Bidirectional, "p1", Self), _onCreated);
        }
    }
}

/// <summary>
/// P1 from plain async code: DmaSgAsk (an Ask that watches its target) for Allocate, then for Put. The cost
/// over <see cref="TellAllocFree"/> is the Ask machinery (a temporary actor, a promise and a timer per request).
/// </summary>
public sealed class AskAllocFree : IAllocFreeDesign
{
    private readonly ActorHost _host;
    private readonly IActorRef _allocator;
    private readonly IActorRef _holder;

    public AskAllocFree(ActorHost host)
    {
        _host = host ?? throw new ArgumentNullException(nameof(host));
        _allocator = host.StartAllocator("p1-ask", 256L << 20, ActorHost.Spec("p1", DeviceKind.Coherent));
        _holder = host.NewHolder();
    }

    public string Name => "Actors.Ask";

    public async ValueTask RunAsync(long size, int count)
    {
        for (int i = 0; i < count; i++)
        {
            BufferCreated b = await _host.Ask<BufferCreated>(_allocator, new Allocate(size, DmaDirection.Bidirectional, "p1", _holder)).ConfigureAwait(false);
            await _host.Ask<RefDropped>(b.Buffer, new Put(_holder)).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(_allocator).ConfigureAwait(false);
        await _host.StopAsync(_holder).ConfigureAwait(false);
    }
}
