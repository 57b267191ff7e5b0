using System.Diagnostics;
using Akka.Actor;
using DmaSg.Actors;
using DmaSg.Actors.Protocol;
using DmaSg.Benchmarks.Baselines.LockedPort;
using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.Harness;
using DmaSg.Memory.Dma;

namespace DmaSg.Benchmarks.ActorDesigns;

/// <summary>
/// P2 through the Tell protocol: one client actor per stream drives each frame through the buffer, dmabuf
/// and importer actors, one request at a time: Allocate, Prepare, DmaWrite (the camera), Finish, ExportDmaBuf,
/// AttachDmaBuf (the encoder), Put of the exporter's dmabuf ref, Pin, DmaRead, Unpin, Detach, Put.
/// </summary>
public sealed class TellPipeline : IFramePipelineDesign
{
    private readonly ActorHost _host;
    private readonly PipelineCase _case;
    private readonly IActorRef _allocator;
    private readonly IActorRef[] _drivers;

    public TellPipeline(ActorHost host, PipelineCase pipelineCase)
    {
        _host = host ?? throw new ArgumentNullException(nameof(host));
        _case = pipelineCase ?? throw new ArgumentNullException(nameof(pipelineCase));
        DeviceSpec[] devices =
        [
            .. Enumerable.Range(0, pipelineCase.Streams).Select(s => ActorHost.Spec($"camera{s}", pipelineCase.Camera)),
            ActorHost.Spec("encoder", pipelineCase.Encoder),
        ];
        _allocator = host.StartAllocator("p2-tell", LockedPortPipeline.PipelineArenaSize(pipelineCase), devices);
        _drivers = Enumerable.Range(0, pipelineCase.Streams)
            .Select(s => host.Spawn(Props.Create(() => new StreamDriver(_allocator, pipelineCase, s)), $"p2-stream{s}"))
            .ToArray();
    }

    public string Name => "Actors.Tell";

    public async ValueTask<RoundSample> RunAsync(int framesPerStream)
    {
        long start = Stopwatch.GetTimestamp();
        RoundSample[] streams = await Task.WhenAll(_drivers.Select(d => TellDriver.RunAsync(d, framesPerStream))).ConfigureAwait(false);
        long elapsed = Stopwatch.GetTimestamp() - start;
        return new RoundSample(streams.Sum(s => s.Ops), elapsed, streams.SelectMany(s => s.LatencyTicks ?? []).ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var d in _drivers)
        {
            await _host.StopAsync(d).ConfigureAwait(false);
        }

        await _host.StopAsync(_allocator).ConfigureAwait(false);
    }

    private sealed class StreamDriver : TellDriver
    {
        private readonly IActorRef _allocator;
        private readonly PipelineCase _case;
        private readonly int _stream;
        private readonly string _camera;
        private readonly byte[] _source;
        private int _frameNo;
        private int _ops;
        private int _left;
        private long _start;
        private long _frameStart;
        private LatencyRecorder _latency = new(1, 1);

        // The frame in flight.
        private IActorRef _buffer = ActorRefs.Nobody;
        private IActorRef _importer = ActorRefs.Nobody;
        private long _stamp;

        public StreamDriver(IActorRef allocator, PipelineCase pipelineCase, int stream)
        {
            _allocator = allocator;
            _case = pipelineCase;
            _stream = stream;
            _camera = $"camera{stream}";
            _source = FrameData.NewSource(stream, pipelineCase.FrameSize);
        }

        protected override void OnStart(int ops)
        {
            _ops = _left = ops;
            _latency = new LatencyRecorder(1, ops);
            _start = Stopwatch.GetTimestamp();
            NextFrame();
        }

        private void NextFrame()
        {
            if (_left == 0)
            {
                Complete(new RoundSample(_ops, Stopwatch.GetTimestamp() - _start, _latency.ToArray()));
                return;
            }

            _frameStart = Stopwatch.GetTimestamp();
            _stamp = FrameData.StampOf(_stream, _frameNo++);
            Send(_allocator, new Allocate(_case.FrameSize, DmaDirection.FromDevice, _camera, Self), r =>
            {
                _buffer = As<BufferCreated>(r).Buffer;
                Send(_buffer, Prepare.Instance, _ =>
                {
                    // The camera DMA-writes the frame through the buffer's own mapping.
                    FrameData.Stamp(_source, _stamp);
                    Send(_buffer, new DmaWrite(0, _source), _ => Send(_buffer, Finish.Instance, _ => Export()));
                });
            });
        }

        private void Export() =>
            Send(_buffer, new ExportDmaBuf(Self), r =>
            {
                IActorRef dmabuf = As<Exported>(r).DmaBuf;
                Send(_allocator, new AttachDmaBuf(dmabuf, _case.FrameSize, DmaDirection.ToDevice, "encoder", Self), r2 =>
                {
                    _importer = As<Imported>(r2).Importer;

                    // The exporter closes its dmabuf fd: the encoder's attachment keeps the dmabuf alive.
                    Send(dmabuf, new Put(Self), _ => Encode());
                });
            });

        private void Encode() =>
            Send(_importer, Pin.Instance, _ =>
                Send(_importer, new DmaRead(0, checked((int)_case.FrameSize)), r =>
                {
                    FrameData.Check(As<BytesRead>(r).Data, _stamp, $"Actors.Tell stream {_stream}");
                    Send(_importer, Unpin.Instance, _ =>
                        Send(_importer, Detach.Instance, _ =>
                            Send(_buffer, new Put(Self), _ => FrameDone())));
                }));

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
