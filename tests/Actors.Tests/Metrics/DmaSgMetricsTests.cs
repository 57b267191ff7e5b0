using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Tests.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests.Metrics;

public class DmaSgMetricsTests(ITestOutputHelper output) : FacadeTestKit(output)
{
    [Fact]
    public async Task The_meter_reports_pages_buffers_mappings_failures_and_maps()
    {
        // An answer means the allocator has started, and so has its meter.
        await Dmasg.GetStatsAsync();
        string allocator = $"{Sys.Name}/user/dmasg#{Dmasg.Allocator.Path.Uid}";
        var seen = new ConcurrentDictionary<string, double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "DmaSg")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record(Instrument i, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "dmasg.allocator" && Equals(tag.Value, allocator))
                {
                    seen[i.Name] = value;
                }
            }
        }

        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.Start();

        listener.RecordObservableInstruments();
        double total = seen["dmasg.pages.total"];
        Assert.Equal(total, seen["dmasg.pages.free"]);

        await using (BufferHandle buf = await Dmasg.AllocateAsync(3L * PageSize, DmaDirection.ToDevice, "encoder"))
        await using (await buf.MmapAsync())
        {
            await Assert.ThrowsAsync<DmaSgException>(() => Dmasg.AllocateAsync(1L << 30));
            listener.RecordObservableInstruments();
            Assert.Equal(total - 3, seen["dmasg.pages.free"]);
            Assert.Equal(1, seen["dmasg.buffers.live"]);
            Assert.Equal(1, seen["dmasg.mappings.live"]);
            Assert.Equal(1, seen["dmasg.mmaps.live"]);
            Assert.Equal(1, seen["dmasg.allocation.failures"]);
            Assert.Equal(1, seen["dmasg.maps"]);
        }

        await AssertNothingLeaked();
        listener.RecordObservableInstruments();
        Assert.Equal(total, seen["dmasg.pages.free"]);
        Assert.Equal(0, seen["dmasg.buffers.live"]);
        Assert.Equal(1, seen["dmasg.unmaps"]);
    }
}
