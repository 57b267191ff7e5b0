using System.Diagnostics;
using Akka.Actor;
using DmaSg.Actors;
using DmaSg.Actors.Protocol;
using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.Harness;
using DmaSg.Memory.Dma;

namespace DmaSg.Benchmarks.ActorDesigns;

/// <summary>
/// P3 through the Tell protocol: one exported buffer; each client is an actor owning an importer (its own
/// attachment actor, its own device), pinned once so the direction is cached; a run is Pin then Unpin,
/// one pair at a time per client, all clients at once.
/// </summary>
public sealed class TellCachedMap : ICachedMapDesign
{
    private readonly ActorHost _host;
    private readonly IActorRef _allocator;
    private readonly IActorRef _holder;
    private readonly IActorRef[] _clients;
    private readonly IActorRef[] _importers;
    private readonly IActorRef _buffer;
    private readonly IActorRef _dmabuf;

    private TellCachedMap(ActorHost host, IActorRef allocator, IActorRef holder, IActorRef[] clients, IActorRef[] importers, IActorRef buffer, IActorRef dmabuf)
    {
        _host = host;
        _allocator = allocator;
        _holder = holder;
        _clients = clients;
        _importers = importers;
        _buffer = buffer;
        _dmabuf = dmabuf;
    }

    public string Name => "Actors.Tell";

    public static async Task<TellCachedMap> CreateAsync(ActorHost host, CachedMapCase mapCase)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(mapCase);
        DeviceSpec[] devices =
        [
            ActorHost.Spec("exporter", DeviceKind.Coherent),
            .. Enumerable.Range(0, mapCase.Clients).Select(i => ActorHost.Spec($"client{i}", mapCase.Device)),
        ];
        IActorRef allocator = host.StartAllocator("p3-tell", 16L << 20, devices);
        IActorRef holder = host.NewHolder();
        BufferCreated b = await host.Ask<BufferCreated>(allocator, new Allocate(mapCase.BufferSize, DmaDirection.Bidirectional, "exporter", holder)).ConfigureAwait(false);
        Exported e = await host.Ask<Exported>(b.Buffer, new ExportDmaBuf(holder)).ConfigureAwait(false);
        var clients = new IActorRef[mapCase.Clients];
        var importers = new IActorRef[mapCase.Clients];
        for (int i = 0; i < clients.Length; i++)
        {
            var client = host.Spawn(Props.Create(() => new Client()), $"p3-client{i}");

            // The client holds its importer: if it died, the importer would detach.
            Imported imp = await host.Ask<Imported>(allocator, new AttachDmaBuf(e.DmaBuf, mapCase.BufferSize, mapCase.Direction, $"client{i}", client)).ConfigureAwait(false);
            await host.Ask<Pinned>(imp.Importer, Pin.Instance).ConfigureAwait(false);
            await host.Ask<Done>(imp.Importer, Unpin.Instance).ConfigureAwait(false);
            client.Tell(new Client.Use(imp.Importer));
            clients[i] = client;
            importers[i] = imp.Importer;
        }

        return new TellCachedMap(host, allocator, holder, clients, importers, b.Buffer, e.DmaBuf);
    }

    public async ValueTask<RoundSample> RunAsync(int opsPerClient)
    {
        long start = Stopwatch.GetTimestamp();
        RoundSample[] runs = await Task.WhenAll(_clients.Select(c => TellDriver.RunAsync(c, opsPerClient))).ConfigureAwait(false);
        long elapsed = Stopwatch.GetTimestamp() - start;
        return new RoundSample(runs.Sum(r => r.Ops), elapsed, runs.SelectMany(r => r.LatencyTicks ?? []).ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        // Give everything back in order (detach, close the dmabuf, put the buffer), then stop the actors.
        foreach (var imp in _importers)
        {
            await _host.Ask<Done>(imp, Detach.Instance).ConfigureAwait(false);
        }

        await _host.Ask<RefDropped>(_dmabuf, new Put(_holder)).ConfigureAwait(false);
        await _host.Ask<RefDropped>(_buffer, new Put(_holder)).ConfigureAwait(false);
        foreach (var c in _clients)
        {
            await _host.StopAsync(c).ConfigureAwait(false);
        }

        await _host.StopAsync(_holder).ConfigureAwait(false);
        await _host.StopAsync(_allocator).ConfigureAwait(false);
    }

    private sealed class Client : TellDriver
    {
        private readonly Action<IDmaSgReply> _onPinned;
        private readonly Action<IDmaSgReply> _onUnpinned;
        private IActorRef _importer = ActorRefs.Nobody;
        private LatencyRecorder _latency = new(1, 1);
        private int _ops;
        private int _done;
        private long _start;
        private long _opStart;

        public Client()
        {
            _onPinned = r =>
            {
                As<Pinned>(r);
                Send(_importer, Unpin.Instance, _onUnpinned!);
            };
            _onUnpinned = r =>
            {
                As<Done>(r);
                if (_latency.Wants(_done))
                {
                    _latency.Record(0, Stopwatch.GetTimestamp() - _opStart);
                }

                _done++;
                Next();
            };
        }

        protected override void OnReceive(object message)
        {
            if (message is Use use)
            {
                _importer = use.Importer;
                return;
            }

            base.OnReceive(message);
        }

        protected override void OnStart(int ops)
        {
            _ops = ops;
            _done = 0;
            _latency = new LatencyRecorder(1, ops);
            _start = Stopwatch.GetTimestamp();
            Next();
        }

        private void Next()
        {
            if (_done == _ops)
            {
                Complete(new RoundSample(_ops, Stopwatch.GetTimestamp() - _start, _latency.ToArray()));
                return;
            }

            _opStart = Stopwatch.GetTimestamp();
            Send(_importer, Pin.Instance, _onPinned);
        }

        public sealed record Use(IActorRef Importer);
    }
}
