using System.Diagnostics.Metrics;
using DmaSg.Actors.Support;

namespace DmaSg.Actors.Metrics;

/// <summary>
/// The <c>Meter("DmaSg")</c> of one allocator: observable instruments read the lock-free counters the actors
/// keep, so measuring costs the actors nothing. Every measurement carries the tag <c>dmasg.allocator</c>
/// ("system/user/dmasg#uid": unique even when several systems share a name).
/// </summary>
internal sealed class DmaSgMetrics : IDisposable
{
    public const string MeterName = "DmaSg";

    private readonly Meter _meter;

    public DmaSgMetrics(DmaSgRuntime runtime, long totalPages, string allocator)
    {
        DmaSgCounters c = runtime.Counters;
        var tag = new KeyValuePair<string, object?>("dmasg.allocator", allocator);
        _meter = new Meter(MeterName, "1.0");
        _meter.CreateObservableGauge("dmasg.pages.free", () => new Measurement<long>(DmaSgCounters.Read(ref c.FreePages), tag), "{page}",
            "Pages on the arena's free lists");
        _meter.CreateObservableGauge("dmasg.pages.total", () => new Measurement<long>(totalPages, tag), "{page}", "Pages in the arena");
        _meter.CreateObservableUpDownCounter("dmasg.buffers.live", () => new Measurement<int>(DmaSgCounters.Read(ref c.Buffers), tag),
            "{buffer}", "Buffer actors alive");
        _meter.CreateObservableUpDownCounter("dmasg.dmabufs.live", () => new Measurement<int>(DmaSgCounters.Read(ref c.DmaBufs), tag),
            "{dmabuf}", "Exported dmabufs alive");
        _meter.CreateObservableUpDownCounter("dmasg.mappings.live", () => new Measurement<int>(runtime.Devices.LiveMappings, tag),
            "{mapping}", "DMA mappings live on all devices (buffers and attachments)");
        _meter.CreateObservableUpDownCounter("dmasg.mmaps.live", () => new Measurement<int>(DmaSgCounters.Read(ref c.Mmaps), tag),
            "{mapping}", "User mappings (mmap) not yet unmapped");
        _meter.CreateObservableCounter("dmasg.allocation.failures", () => new Measurement<long>(DmaSgCounters.Read(ref c.AllocationFailures), tag),
            "{failure}", "Allocations refused (out of memory or bad size)");
        _meter.CreateObservableCounter("dmasg.maps", () => new Measurement<long>(DmaSgCounters.Read(ref c.Maps), tag),
            "{map}", "DMA maps made (buffers at allocation, attachments on map)");
        _meter.CreateObservableCounter("dmasg.unmaps", () => new Measurement<long>(DmaSgCounters.Read(ref c.Unmaps), tag),
            "{unmap}", "DMA unmaps made (buffers at free, attachments on remap or detach)");
        _meter.CreateObservableCounter("dmasg.pages.reclaimed", () => new Measurement<long>(DmaSgCounters.Read(ref c.PagesReclaimed), tag),
            "{page}", "Pages taken back from buffers that stopped without returning them");
    }

    public void Dispose() => _meter.Dispose();
}
