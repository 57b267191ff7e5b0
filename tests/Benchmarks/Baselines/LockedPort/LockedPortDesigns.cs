using DmaSg.Benchmarks.Designs;
using DmaSg.Benchmarks.Harness;
using DmaSg.Benchmarks.MemoryLayer;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Dma;

namespace DmaSg.Benchmarks.Baselines.LockedPort;

/// <summary>P1 through the lock-based port: LockedBuffer.Alloc (zone lock around the arena) and Put.</summary>
public sealed class LockedPortAllocFree : IAllocFreeDesign
{
    private readonly ZoneAllocator _zone;
    private readonly DmaDevice _device;

    public LockedPortAllocFree(long arenaSize = 256L << 20)
    {
        _zone = new ZoneAllocator(new PageArenaOptions { ArenaSize = arenaSize, Name = "bench-p1-locked" });
        _device = new CoherentDevice("p1-locked-device");
    }

    public string Name => "LockedPort";

    public ValueTask RunAsync(long size, int count)
    {
        for (int i = 0; i < count; i++)
        {
            LockedBuffer.Alloc(_zone, _device, size, DmaDirection.Bidirectional, "p1").Put();
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _device.Dispose();
        _zone.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// P2 through the lock-based port: one OS thread per stream, a camera device per stream and one shared
/// encoder device, all frames from one shared zone allocator.
/// </summary>
public sealed class LockedPortPipeline : IFramePipelineDesign
{
    private readonly PipelineCase _case;
    private readonly ZoneAllocator _zone;
    private readonly DmaDevice[] _cameras;
    private readonly DmaDevice _encoder;
    private readonly byte[][] _sources;
    private readonly byte[][] _sinks;
    private readonly int[] _frameNo;

    public LockedPortPipeline(PipelineCase pipelineCase)
    {
        _case = pipelineCase ?? throw new ArgumentNullException(nameof(pipelineCase));
        int n = pipelineCase.Streams;
        _zone = new ZoneAllocator(new PageArenaOptions { ArenaSize = PipelineArenaSize(pipelineCase), Name = "bench-p2-locked" });
        _cameras = Enumerable.Range(0, n).Select(s => Devices.Create(pipelineCase.Camera, $"camera{s}")).ToArray();
        _encoder = Devices.Create(pipelineCase.Encoder, "encoder");
        _sources = Enumerable.Range(0, n).Select(s => FrameData.NewSource(s, pipelineCase.FrameSize)).ToArray();
        _sinks = Enumerable.Range(0, n).Select(_ => new byte[pipelineCase.FrameSize]).ToArray();
        _frameNo = new int[n];
    }

    public string Name => "LockedPort";

    /// <summary>Two frames per stream in flight at most, plus slack.</summary>
    public static long PipelineArenaSize(PipelineCase c)
    {
        ArgumentNullException.ThrowIfNull(c);
        return ((2L * c.Streams * c.FrameSize) + (64L << 20)) >> 22 << 22;
    }

    public ValueTask<RoundSample> RunAsync(int framesPerStream) =>
        ValueTask.FromResult(ClientRunner.RunThreads(_case.Streams, framesPerStream, Frame));

    public ValueTask DisposeAsync()
    {
        foreach (var c in _cameras)
        {
            c.Dispose();
        }

        _encoder.Dispose();
        _zone.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Frame(int stream)
    {
        DmaDevice camera = _cameras[stream];
        long stamp = FrameData.StampOf(stream, _frameNo[stream]++);
        var buffer = LockedBuffer.Alloc(_zone, camera, _case.FrameSize, DmaDirection.FromDevice, "frame");
        try
        {
            buffer.Prepare();
            FrameData.Stamp(_sources[stream], stamp);
            FrameData.DeviceWrite(camera, buffer.SgTable, _sources[stream]);
            buffer.Finish();

            // VIDIOC_EXPBUF, hand the fd to the encoder, close our fd: the encoder's ref keeps the dmabuf.
            LockedDmaBuf dmaBuf = buffer.Export();
            LockedImporter encoderSide;
            try
            {
                encoderSide = LockedImporter.Attach(_encoder, dmaBuf, _case.FrameSize, DmaDirection.ToDevice);
            }
            finally
            {
                dmaBuf.Put();
            }

            try
            {
                var mapped = encoderSide.Pin();
                FrameData.DeviceRead(_encoder, mapped, _sinks[stream]);
                encoderSide.Unpin();
                FrameData.Check(_sinks[stream], stamp, $"LockedPort stream {stream}");
            }
            finally
            {
                encoderSide.Detach();
            }
        }
        finally
        {
            buffer.Put();
        }
    }
}

/// <summary>
/// P3 through the lock-based port: one exported buffer, one attachment (and device) per client, each
/// mapped once; then every client pins and unpins its cached mapping under the dmabuf's one mutex.
/// </summary>
public sealed class LockedPortCachedMap : ICachedMapDesign
{
    private readonly CachedMapCase _case;
    private readonly ZoneAllocator _zone;
    private readonly DmaDevice _exporterDevice;
    private readonly DmaDevice[] _clientDevices;
    private readonly LockedBuffer _buffer;
    private readonly LockedDmaBuf _dmaBuf;
    private readonly LockedImporter[] _importers;

    public LockedPortCachedMap(CachedMapCase mapCase)
    {
        _case = mapCase ?? throw new ArgumentNullException(nameof(mapCase));
        _zone = new ZoneAllocator(new PageArenaOptions { ArenaSize = 16L << 20, Name = "bench-p3-locked" });
        _exporterDevice = new CoherentDevice("p3-exporter");
        _clientDevices = Enumerable.Range(0, mapCase.Clients).Select(i => Devices.Create(mapCase.Device, $"p3-client{i}")).ToArray();
        _buffer = LockedBuffer.Alloc(_zone, _exporterDevice, mapCase.BufferSize, DmaDirection.Bidirectional, "p3");
        _dmaBuf = _buffer.Export();
        _importers = _clientDevices.Select(d => LockedImporter.Attach(d, _dmaBuf, mapCase.BufferSize, mapCase.Direction)).ToArray();
        foreach (var imp in _importers)
        {
            // The first pin really maps; from here on the direction is cached.
            imp.Pin();
            imp.Unpin();
        }
    }

    public string Name => "LockedPort";

    public ValueTask<RoundSample> RunAsync(int opsPerClient) =>
        ValueTask.FromResult(ClientRunner.RunThreads(_case.Clients, opsPerClient, client =>
        {
            var imp = _importers[client];
            imp.Pin();
            imp.Unpin();
        }));

    public ValueTask DisposeAsync()
    {
        foreach (var imp in _importers)
        {
            imp.Detach();
        }

        _dmaBuf.Put();
        _buffer.Put();
        foreach (var d in _clientDevices)
        {
            d.Dispose();
        }

        _exporterDevice.Dispose();
        _zone.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>P5 through the lock-based port: many live LockedBuffers.</summary>
public sealed class LockedPortScale : IScaleDesign
{
    private readonly ScaleCase _case;
    private readonly ZoneAllocator _zone;
    private readonly DmaDevice _device;
    private readonly List<LockedBuffer> _live = [];

    public LockedPortScale(ScaleCase scaleCase)
    {
        _case = scaleCase ?? throw new ArgumentNullException(nameof(scaleCase));
        _zone = new ZoneAllocator(new PageArenaOptions { ArenaSize = MemoryScale.ScaleArenaSize(scaleCase), Name = "bench-p5-locked" });
        _device = new CoherentDevice("p5-locked-device");
    }

    public string Name => "LockedPort";

    public ValueTask PrepareAsync()
    {
        for (int pass = 0; pass < 2; pass++)
        {
            var all = new List<LockedBuffer>();
            while (_zone.FreePageCount * _zone.Arena.PageSize >= IScaleDesign.ArenaBlock)
            {
                all.Add(LockedBuffer.Alloc(_zone, _device, IScaleDesign.ArenaBlock, DmaDirection.Bidirectional, "warm"));
            }

            all.ForEach(b => b.Put());
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask CreateAsync(int count)
    {
        _live.Capacity = Math.Max(_live.Capacity, _live.Count + count);
        for (int i = 0; i < count; i++)
        {
            _live.Add(LockedBuffer.Alloc(_zone, _device, _case.BufferSize, DmaDirection.Bidirectional, $"buffer#{i}"));
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DestroyAsync()
    {
        foreach (var b in _live)
        {
            b.Put();
        }

        _live.Clear();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await DestroyAsync().ConfigureAwait(false);
        _device.Dispose();
        _zone.Dispose();
    }
}
