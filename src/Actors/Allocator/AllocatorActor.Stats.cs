using Akka.Actor;
using Akka.Event;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;

namespace DmaSg.Actors.Allocator;

// Stats (the allocator's own counters) and Inspect (every actor asked, gathered).
public sealed partial class AllocatorActor
{
    private AllocatorStats BuildStats()
    {
        int[] blocks = _arena.FreeBlocksPerOrder();
        DmaSgCounters c = Counters;
        var actors = new LiveActorCounts(
            DmaSgCounters.Read(ref c.Buffers),
            DmaSgCounters.Read(ref c.DmaBufs),
            DmaSgCounters.Read(ref c.Attachments),
            DmaSgCounters.Read(ref c.Importers));
        DeviceStats[] devices = Runtime.Devices.All
            .Select(d => new DeviceStats(d.Device.Name, d.Model, d.Device.RefCount, d.Device.LiveMappings, d.Device.IsRemoved, d.Violations))
            .OrderBy(d => d.Name, StringComparer.Ordinal)
            .ToArray();
        return new AllocatorStats(
            _arena.TotalPages,
            _arena.FreePageCount,
            _arena.PageSize,
            _arena.MaxOrder,
            blocks,
            blocks.Select((n, order) => (long)n << order).ToArray(),
            _buffers.Count,
            _importers.Count,
            actors,
            DmaSgCounters.Read(ref c.Mmaps),
            devices.Sum(d => d.LiveMappings),
            DmaSgCounters.Read(ref c.AttachmentMappings),
            devices,
            DmaSgCounters.Read(ref c.Allocations),
            DmaSgCounters.Read(ref c.AllocationFailures),
            DmaSgCounters.Read(ref c.PagesReclaimed),
            DmaSgCounters.Read(ref c.Maps),
            DmaSgCounters.Read(ref c.Unmaps))
        {
            Quotas = _quotas?.All() ?? [],
            QuotaDefaultPages = Runtime.Settings.QuotaDefaultPages,
            LivePools = _pools.Count,
        };
    }

    private void OnInspect()
    {
        IActorRef requester = Sender;
        AllocatorStats stats = BuildStats();
        IActorRef[] targets = [.. _buffers.Keys, .. _importers.Keys, .. _pools.Keys];
        Gather.Start(Context, targets, Runtime.Settings.AskTimeout, replies =>
            requester.Tell(new DmaSgInspection(
                stats,
                replies.OfType<BufferInfo>().OrderBy(b => b.Id).ToArray(),
                replies.OfType<ImporterInfo>().OrderBy(i => i.Id).ToArray())
            {
                Pools = replies.OfType<PoolInfo>().OrderBy(p => p.Id).ToArray(),
            }));
    }
}
