using System.Diagnostics;
using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Benchmarks.Baselines.LockedPort;
using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.Harness;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Benchmarks.ActorDesigns;

/// <summary>
/// P2 through the Tell protocol with a buffer pool per stream (GstBufferPool, as a capture element keeps one):
/// the same steps as <see cref="TellPipeline"/> with <see cref="FrameBytes.Cookie"/>, but each frame acquires
/// a buffer lent by the stream's pool instead of Allocate, and releases it instead of Put. The pool holds two
/// buffers per stream (the LockedPort arena's "two frames in flight") and recycles them without clearing: the
/// camera overwrites the whole frame, and the stamp check would catch a stale one.
/// </summary>
public sealed class TellPoolPipeline : IFramePipelineDesign
{
    /// <summary>Buffers per stream's pool: made at creation and never more.</summary>
    public const int BuffersPerStream = 2;

    private readonly ActorHost _host;
    private readonly IActorRef _allocator;
    private readonly IActorRef _owner;
    private readonly IActorRef[] _pools;
    private readonly IActorRef[] _drivers;
    private readonly DmaDevice[] _devices;

    private TellPoolPipeline(ActorHost host, IActorRef allocator, IActorRef owner, IActorRef[] pools, IActorRef[] drivers, DmaDevice[] devices)
    {
        _host = host;
        _allocator = allocator;
        _owner = owner;
        _pools = pools;
        _drivers = drivers;
        _devices = devices;
    }

    public string Name => "Actors.Tell.Pool";

    /// <summary>Starts the allocator, one pool per stream (buffers mapped for that stream's camera), and the drivers.</summary>
    public static async Task<TellPoolPipeline> CreateAsync(ActorHost host, PipelineCase pipelineCase)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(pipelineCase);
        DmaDevice[] cameras = Enumerable.Range(0, pipelineCase.Streams).Select(s => Devices.Create(pipelineCase.Camera, $"camera{s}")).ToArray();
        DmaDevice encoder = Devices.Create(pipelineCase.Encoder, "encoder");
        DmaDevice[] devices = [.. cameras, encoder];
        IActorRef allocator = host.StartAllocator("p2-pool", LockedPortPipeline.PipelineArenaSize(pipelineCase), [], devices);

        // The pools' owner: its death (at dispose, after the pools are deactivated) would deactivate them too.
        IActorRef owner = host.NewHolder();
        var pools = new IActorRef[pipelineCase.Streams];
        for (int s = 0; s < pools.Length; s++)
        {
            var config = new PoolConfig
            {
                Size = pipelineCase.FrameSize,
                Direction = DmaDirection.FromDevice,
                Device = cameras[s].Name,
                MinBuffers = BuffersPerStream,
                MaxBuffers = BuffersPerStream,
                ZeroOnRecycle = false,
                Name = $"p2-pool{s}",
            };
            pools[s] = (await host.Ask<PoolCreated>(allocator, new CreatePool(config, owner)).ConfigureAwait(false)).Pool;
        }

        IActorRef[] drivers = Enumerable.Range(0, pipelineCase.Streams)
            .Select(s => host.Spawn(Props.Create(() => new StreamDriver(allocator, pools[s], pipelineCase, s, cameras[s], encoder)), $"p2-pool-stream{s}"))
            .ToArray();
        return new TellPoolPipeline(host, allocator, owner, pools, drivers, devices);
    }

    public async ValueTask<RoundSample> RunAsync(int framesPerStream)
    {
        long start = Stopwatch.GetTimestamp();
        RoundSample[] streams = await Task.WhenAll(_drivers.Select(d => TellDriver.RunAsync(d, framesPerStream))).ConfigureAwait(false);
        long elapsed = Stopwatch.GetTimestamp() - start;
        return new RoundSample(streams.Sum(s => s.Ops), elapsed, streams.SelectMany(s => s.LatencyTicks ?? []).ToArray());
    }

    /// <summary>The pools' counters summed: how many acquires were served by a recycled buffer, and how many were dropped.</summary>
    public async Task<(long Recycles, long Allocations, long Dropped)> CountersAsync()
    {
        long recycles = 0, allocations = 0, dropped = 0;
        foreach (var pool in _pools)
        {
            PoolInfo info = await _host.Ask<PoolInfo>(pool, Inspect.Instance).ConfigureAwait(false);
            recycles += info.Recycles;
            allocations += info.Allocations;
            dropped += info.Dropped;
        }

        return (recycles, allocations, dropped);
    }

    public async ValueTask DisposeAsync()
    {
        var (recycles, allocations, dropped) = await CountersAsync().ConfigureAwait(false);
        Console.Error.WriteLine($"{Name}, {_pools.Length} stream(s): {recycles} recycles, {allocations} allocations, {dropped} dropped");
        foreach (var d in _drivers)
        {
            await _host.StopAsync(d).ConfigureAwait(false);
        }

        foreach (var pool in _pools)
        {
            await _host.Ask<Done>(pool, DeactivatePool.Instance).ConfigureAwait(false);
        }

        await _host.StopAsync(_owner).ConfigureAwait(false);
        await _host.StopAsync(_allocator).ConfigureAwait(false);
        foreach (var d in _devices)
        {
            d.Dispose();
        }
    }

    private sealed class StreamDriver : TellDriver
    {
        private readonly IActorRef _allocator;
        private readonly IActorRef _pool;
        private readonly PipelineCase _case;
        private readonly int _stream;
        private readonly IDmaDevice _camera;
        private readonly IDmaDevice _encoder;
        private readonly byte[] _source;
        private readonly byte[] _sink;
        private int _frameNo;
        private int _ops;
        private int _left;
        private long _start;
        private long _frameStart;
        private LatencyRecorder _latency = new(1, 1);

        // The frame in flight.
        private IActorRef _buffer = ActorRefs.Nobody;
        private IActorRef _dmabuf = ActorRefs.Nobody;
        private IActorRef _importer = ActorRefs.Nobody;
        private bool _detached;
        private bool _dmabufGone;
        private long _stamp;

        public StreamDriver(IActorRef allocator, IActorRef pool, PipelineCase pipelineCase, int stream, IDmaDevice camera, IDmaDevice encoder)
        {
            _allocator = allocator;
            _pool = pool;
            _case = pipelineCase;
            _stream = stream;
            _camera = camera;
            _encoder = encoder;
            _source = FrameData.NewSource(stream, pipelineCase.FrameSize);
            _sink = new byte[pipelineCase.FrameSize];
        }

        protected override void OnReceive(object message)
        {
            if (message is Terminated t)
            {
                if (t.ActorRef.Equals(_dmabuf))
                {
                    _dmabufGone = true;
                    ReleaseWhenUnshared();
                }

                return;
            }

            base.OnReceive(message);
        }

        protected override void OnStart(int ops)
        {
            _ops = _left = ops;
            _latency = new LatencyRecorder(1, ops);
            _start = Stopwatch.GetTimestamp();
            NextFrame();
        }

        private static ReadOnlySpan<DmaSegment> Segments(SgTableInfo table) =>
            table.Segments is DmaSegment[] a ? a : table.Segments.ToArray();

        private void NextFrame()
        {
            if (_left == 0)
            {
                Complete(new RoundSample(_ops, Stopwatch.GetTimestamp() - _start, _latency.ToArray()));
                return;
            }

            _frameStart = Stopwatch.GetTimestamp();
            _stamp = FrameData.StampOf(_stream, _frameNo++);
            FrameData.Stamp(_source, _stamp);
            Send(_pool, new AcquireBuffer(Self), r =>
            {
                _buffer = As<BufferAcquired>(r).Buffer.Buffer;

                // vb2's cookie: the mapped table the camera driver programs into its DMA engine.
                Send(_buffer, GetCookie.Instance, c =>
                {
                    SgTableInfo table = As<Cookie>(c).Table;
                    Send(_buffer, Prepare.Instance, _ =>
                    {
                        FrameData.DeviceWrite(_camera, Segments(table), _source);
                        Send(_buffer, Finish.Instance, _ => Export());
                    });
                });
            });
        }

        private void Export() =>
            Send(_buffer, new ExportDmaBuf(Self), r =>
            {
                _dmabuf = As<Exported>(r).DmaBuf;
                _detached = _dmabufGone = false;

                // The dmabuf drops its buffer ref when it stops; the buffer goes back to the pool only after
                // that, or the pool sees another user and lets the buffer go instead of lending it again.
                Context.Watch(_dmabuf);
                Send(_allocator, new AttachDmaBuf(_dmabuf, _case.FrameSize, DmaDirection.ToDevice, _encoder.Name, Self), r2 =>
                {
                    _importer = As<Imported>(r2).Importer;

                    // The exporter closes its dmabuf fd: the encoder's attachment keeps the dmabuf alive.
                    Send(_dmabuf, new Put(Self), _ => Encode());
                });
            });

        private void Encode() =>
            Send(_importer, Pin.Instance, p =>
            {
                FrameData.DeviceRead(_encoder, Segments(As<Pinned>(p).Table), _sink);
                FrameData.Check(_sink, _stamp, $"pooled actors stream {_stream}");
                Send(_importer, Unpin.Instance, _ =>
                    Send(_importer, Detach.Instance, _ =>
                    {
                        _detached = true;
                        ReleaseWhenUnshared();
                    }));
            });

        private void ReleaseWhenUnshared()
        {
            if (!_detached || !_dmabufGone)
            {
                return;
            }

            _detached = false;
            Send(_pool, new ReleaseBuffer(_buffer, Self), _ => FrameDone());
        }

        private void FrameDone()
        {
            int frame = _ops - _left;
            if (_latency.Wants(frame))
            {
                _latency.Record(0, Stopwatch.GetTimestamp() - _frameStart);
            }

            _left--;
            NextFrame();
        }
    }
}
