using System.Diagnostics;
using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Benchmarks.Baselines.LockedPort;
using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.Harness;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Benchmarks.ActorDesigns;

/// <summary>How the frame's bytes move in the actor pipeline.</summary>
public enum FrameBytes
{
    /// <summary>
    /// Zero-copy, as a driver does it: the camera DMA-writes at the buffer's cookie (its mapped sg table) and
    /// the encoder DMA-reads at the table its Pin returned, through the device models directly.
    /// </summary>
    Cookie,

    /// <summary>Through the protocol's DmaWrite/DmaRead messages (the path that also crosses nodes): a copy each way.</summary>
    Messages,
}

/// <summary>
/// P2 through the Tell protocol: one client actor per stream drives each frame through the buffer, dmabuf
/// and importer actors, one request at a time: Allocate, GetCookie, Prepare, camera DMA write, Finish,
/// ExportDmaBuf, AttachDmaBuf (the encoder), Put of the exporter's dmabuf ref, Pin, encoder DMA read, Unpin,
/// Detach, Put. With <see cref="FrameBytes.Messages"/> the two DMA steps are DmaWrite/DmaRead requests instead.
/// </summary>
public sealed class TellPipeline : IFramePipelineDesign
{
    private readonly ActorHost _host;
    private readonly IActorRef _allocator;
    private readonly IActorRef[] _drivers;
    private readonly DmaDevice[] _devices;

    public TellPipeline(ActorHost host, PipelineCase pipelineCase, FrameBytes bytes)
    {
        _host = host ?? throw new ArgumentNullException(nameof(host));
        ArgumentNullException.ThrowIfNull(pipelineCase);
        Bytes = bytes;

        // The devices are built here and registered with the allocator, so the stream drivers can DMA through them.
        DmaDevice[] cameras = Enumerable.Range(0, pipelineCase.Streams).Select(s => Devices.Create(pipelineCase.Camera, $"camera{s}")).ToArray();
        DmaDevice encoder = Devices.Create(pipelineCase.Encoder, "encoder");
        _devices = [.. cameras, encoder];
        _allocator = host.StartAllocator("p2-tell", LockedPortPipeline.PipelineArenaSize(pipelineCase), [], _devices);
        _drivers = Enumerable.Range(0, pipelineCase.Streams)
            .Select(s => host.Spawn(Props.Create(() => new StreamDriver(_allocator, pipelineCase, s, cameras[s], encoder, bytes)), $"p2-stream{s}"))
            .ToArray();
    }

    public FrameBytes Bytes { get; }

    public string Name => Bytes == FrameBytes.Cookie ? "Actors.Tell" : "Actors.Tell.Msg";

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
        foreach (var d in _devices)
        {
            d.Dispose();
        }
    }

    private sealed class StreamDriver : TellDriver
    {
        private readonly IActorRef _allocator;
        private readonly PipelineCase _case;
        private readonly int _stream;
        private readonly IDmaDevice _camera;
        private readonly IDmaDevice _encoder;
        private readonly FrameBytes _bytes;
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
        private IActorRef _importer = ActorRefs.Nobody;
        private long _stamp;

        public StreamDriver(IActorRef allocator, PipelineCase pipelineCase, int stream, IDmaDevice camera, IDmaDevice encoder, FrameBytes bytes)
        {
            _allocator = allocator;
            _case = pipelineCase;
            _stream = stream;
            _camera = camera;
            _encoder = encoder;
            _bytes = bytes;
            _source = FrameData.NewSource(stream, pipelineCase.FrameSize);
            _sink = new byte[pipelineCase.FrameSize];
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
            Send(_allocator, new Allocate(_case.FrameSize, DmaDirection.FromDevice, _camera.Name, Self), r =>
            {
                _buffer = As<BufferCreated>(r).Buffer;
                if (_bytes == FrameBytes.Cookie)
                {
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
                }
                else
                {
                    Send(_buffer, Prepare.Instance, _ => Send(_buffer, new DmaWrite(0, _source), _ => Send(_buffer, Finish.Instance, _ => Export())));
                }
            });
        }

        private void Export() =>
            Send(_buffer, new ExportDmaBuf(Self), r =>
            {
                IActorRef dmabuf = As<Exported>(r).DmaBuf;
                Send(_allocator, new AttachDmaBuf(dmabuf, _case.FrameSize, DmaDirection.ToDevice, _encoder.Name, Self), r2 =>
                {
                    _importer = As<Imported>(r2).Importer;

                    // The exporter closes its dmabuf fd: the encoder's attachment keeps the dmabuf alive.
                    Send(dmabuf, new Put(Self), _ => Encode());
                });
            });

        private void Encode() =>
            Send(_importer, Pin.Instance, p =>
            {
                if (_bytes == FrameBytes.Cookie)
                {
                    FrameData.DeviceRead(_encoder, Segments(As<Pinned>(p).Table), _sink);
                    Encoded(_sink);
                }
                else
                {
                    Send(_importer, new DmaRead(0, checked((int)_case.FrameSize)), r => Encoded(As<BytesRead>(r).Data));
                }
            });

        private void Encoded(byte[] frame)
        {
            FrameData.Check(frame, _stamp, $"actors stream {_stream}");
            Send(_importer, Unpin.Instance, _ =>
                Send(_importer, Detach.Instance, _ =>
                    Send(_buffer, new Put(Self), _ => FrameDone())));
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
