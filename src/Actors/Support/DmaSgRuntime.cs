namespace DmaSg.Actors.Support;

/// <summary>What every actor under one allocator shares: settings, devices, counters, id source.</summary>
internal sealed class DmaSgRuntime(DmaSgSettings settings)
{
    private long _nextId;

    public DmaSgSettings Settings { get; } = settings;

    public DeviceRegistry Devices { get; } = new();

    public DmaSgCounters Counters { get; } = new();

    /// <summary>A process-unique id for a buffer, dmabuf, attachment, importer or mapping.</summary>
    public long NextId() => Interlocked.Increment(ref _nextId);
}
