namespace DmaSg.Actors.Support;

/// <summary>What every actor under one allocator shares: settings, devices, counters, id source.</summary>
internal sealed class DmaSgRuntime(DmaSgSettings settings)
{
    private long _nextId;

    public DmaSgSettings Settings { get; } = settings;

    public DeviceRegistry Devices { get; } = new();

    public DmaSgCounters Counters { get; } = new();

    /// <summary>The allocator's fd exporter (dmasg.export.providers); set once by the allocator as it starts.</summary>
    public FdExporter? Exporter { get; set; }

    /// <summary>A process-unique id for a buffer, dmabuf, attachment, importer or mapping.</summary>
    public long NextId() => Interlocked.Increment(ref _nextId);
}
