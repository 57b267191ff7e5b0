using System.Diagnostics;
using Akka.Actor;
using DmaSg.Actors;
using DmaSg.Actors.Protocol;
using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.Harness;
using DmaSg.Memory.Dma;

namespace DmaSg.Benchmarks.ActorDesigns;

/// <summary>Which actor a P3 client pins through.</summary>
public enum MapLevel
{
    /// <summary>Its importer (vb2 map_dmabuf/unmap_dmabuf): client -> importer -> attachment and back.</summary>
    Importer,

    /// <summary>Its attachment directly (dma_buf_map/unmap_attachment): client -> attachment and back.</summary>
    Attachment,
}

/// <summary>
/// P3 through the Tell protocol: one exported buffer; each client is an actor owning an importer (its own
/// attachment actor, its own device), pinned once so the direction is cached; a run is Pin then Unpin,
/// one pair at a time per client, all clients at once. With <see cref="MapLevel.Attachment"/> the clients
/// own bare attachments and send MapAttachment/UnmapAttachment (the dma-buf level, one hop less).
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

    public string Name { get; private init; } = "Actors.Tell";

    public static async Task<TellCachedMap> CreateAsync(ActorHost host, CachedMapCase mapCase, MapLevel level = MapLevel.Importer)
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
            var client = host.Spawn(Props.Create(() => new Client(level, mapCase.Direction)), $"p3-client{i}");
            IActorRef target;
            if (level == MapLevel.Importer)
            {
                // The client holds its importer: if it died, the importer would detach.
                Imported imp = await host.Ask<Imported>(allocator, new AttachDmaBuf(e.DmaBuf, mapCase.BufferSize, mapCase.Direction, $"client{i}", client)).ConfigureAwait(false);
                await host.Ask<Pinned>(imp.Importer, Pin.Instance).ConfigureAwait(false);
                await host.Ask<Done>(imp.Importer, Unpin.Instance).ConfigureAwait(false);
                target = imp.Importer;
            }
            else
            {
                AttachmentCreated a = await host.Ask<AttachmentCreated>(e.DmaBuf, new Attach($"client{i}", mapCase.BufferSize, client)).ConfigureAwait(false);
                await host.Ask<AttachmentMapped>(a.Attachment, new MapAttachment(mapCase.Direction)).ConfigureAwait(false);
                target = a.Attachment;
            }

            client.Tell(new Client.Use(target));
            clients[i] = client;
            importers[i] = target;
        }

        return new TellCachedMap(host, allocator, holder, clients, importers, b.Buffer, e.DmaBuf)
        {
            Name = level == MapLevel.Importer ? "Actors.Tell" : "Actors.Tell.Attach",
        };
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
        // Give everything back in order (detach importers or attachments, close the dmabuf, put the buffer), then stop the actors.
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
        private readonly Action<IDmaSgReply> _onMapped;
        private readonly Action<IDmaSgReply> _onUnmapped;
        private readonly IDmaSgRequest _map;
        private readonly IDmaSgRequest _unmap;
        private IActorRef _target = ActorRefs.Nobody;
        private LatencyRecorder _latency = new(1, 1);
        private int _ops;
        private int _done;
        private long _start;
        private long _opStart;

        public Client(MapLevel level, DmaDirection direction)
        {
            (_map, _unmap) = level == MapLevel.Importer
                ? ((IDmaSgRequest)Pin.Instance, (IDmaSgRequest)Unpin.Instance)
                : (new MapAttachment(direction), new UnmapAttachment(direction));
            _onMapped = r =>
            {
                if (r is not (Pinned or AttachmentMapped { Cached: true }))
                {
                    throw new InvalidOperationException($"expected a cached mapping, got {r}");
                }

                Send(_target, _unmap, _onUnmapped!);
            };
            _onUnmapped = r =>
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
                _target = use.Target;
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
            Send(_target, _map, _onMapped);
        }

        public sealed record Use(IActorRef Target);
    }
}
