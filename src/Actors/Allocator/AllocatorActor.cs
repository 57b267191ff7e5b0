using Akka.Actor;
using Akka.Event;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Memory;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Allocator;

/// <summary>
/// Owns the page arena and is the only code that takes or frees pages. Spawns a <see cref="Buffers.BufferActor"/>
/// per buffer and an <see cref="Importers.ImportedBufferActor"/> per importer, watches each, and takes back the
/// pages of a buffer that stops without returning them. Never restarted: its handlers catch everything, and a
/// failure to start stops it.
/// </summary>
public sealed partial class AllocatorActor : DmaSgActor
{
    private readonly PageArena _arena;
    private readonly Dictionary<IActorRef, BufferRecord> _buffers = [];
    private readonly Dictionary<IActorRef, long> _importers = [];
    private Metrics.DmaSgMetrics? _metrics;

    private AllocatorActor(DmaSgRuntime runtime)
        : base(runtime)
    {
        DmaSgSettings s = runtime.Settings;
        _arena = new PageArena(new PageArenaOptions { ArenaSize = s.ArenaSize, MaxOrder = s.MaxOrder, Zero = s.Zero, Name = s.ArenaName })
        {
            FaultInjector = s.FaultInjector,
        };

        // Each provider that cannot be used is logged once, with its reason, the first time an export needs it.
        Runtime.Exporter = new FdExporter(_arena, new ProviderChain(s.ExportProviders, message => Log.Warning("{0}", message), s.ExportOptions));
        _heap = s.UsesDmaHeap ? new DmaHeapProvider(s.DmaHeapName, s.ExportOptions.DmaHeapDirectory) : null;
        PublishFreePages();
    }

    /// <summary>
    /// The allocator's Props. Settings are checked here, so a bad configuration throws InvalidArgument at the
    /// caller instead of stopping the actor later.
    /// </summary>
    public static Props Props(DmaSgSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        return ActorProps.Of(() => new AllocatorActor(new DmaSgRuntime(settings)));
    }

    protected override void PreStart()
    {
        DmaSgSettings s = Runtime.Settings;
        foreach (DeviceSpec spec in s.DeviceSpecs)
        {
            DeviceSpec capped = s.MaxSegment is { } cap ? spec with { MaxSegment = Math.Min(spec.MaxSegment ?? cap, cap) } : spec;
            IDmaDevice device = capped.Create();
            if (s.Checker)
            {
                device = new DmaApiChecker(device, s.CheckerMode);
            }

            Runtime.Devices.Add(device, spec.Model.ToString().ToLowerInvariant(), owned: true);
        }

        foreach (IDmaDevice device in s.Devices)
        {
            Runtime.Devices.Add(device, ModelOf(device), owned: false);
        }

        _metrics = new Metrics.DmaSgMetrics(Runtime, _arena.TotalPages, $"{Context.System.Name}{Self.Path.ToStringWithoutAddress()}#{Self.Path.Uid}");
        Log.Info("dmasg allocator up: {0} pages of {1} bytes, max order {2}, devices [{3}]", _arena.TotalPages, _arena.PageSize,
            _arena.MaxOrder, string.Join(", ", Runtime.Devices.All.Select(d => $"{d.Device.Name}:{d.Model}")));
    }

    protected override void PostStop()
    {
        _metrics?.Dispose();

        // Children (buffers, importers) stopped before this runs and unmapped their DMA mappings in their PostStop.
        foreach (DeviceEntry entry in Runtime.Devices.All.Where(d => d.Owned))
        {
            (entry.Device as IDisposable)?.Dispose();
        }

        // Children closed their exported fds in their PostStop; now nothing can ask for a new one.
        Runtime.Exporter?.Dispose();
        _heap?.Dispose();
        _arena.Dispose();
    }

    /// <summary>Never let an exception restart the allocator: the arena and the page table would be lost.</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        try
        {
            return base.AroundReceive(receive, message);
        }
        catch (Exception e)
        {
            Log.Error(e, "allocator: {0} failed; state kept", message.GetType().Name);
            return true;
        }
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Allocate m:
                Respond(() => OnAllocate(m));
                break;
            case GetUserptr m:
                Respond(() => OnGetUserptr(m));
                break;
            case AttachDmaBuf m:
                OnAttachDmaBuf(m);
                break;
            case PagesReturned m:
                OnPagesReturned(m);
                break;
            case PagesShared m:
                OnPagesShared(m);
                break;
            case Terminated t:
                OnTerminated(t.ActorRef);
                break;
            case RegisterDevice m:
                Respond(() => OnRegisterDevice(m));
                break;
            case RemoveDevice m:
                Respond(() => OnRemoveDevice(m));
                break;
            case GetStats:
                Respond(BuildStats);
                break;
            case Inspect:
                OnInspect();
                break;
            case SetFaultInjector m:
                _arena.FaultInjector = m.Injector;
                Sender.Tell(Done.Instance);
                break;
            default:
                if (!ReceivePoolsAndQuotas(message))
                {
                    NotUnderstood(message);
                }

                break;
        }
    }

    private static string ModelOf(IDmaDevice device) =>
        (device is DmaApiChecker c ? c.Inner : device).GetType().Name.Replace("Device", string.Empty, StringComparison.Ordinal).ToLowerInvariant();

    private void PublishFreePages() => Interlocked.Exchange(ref Counters.FreePages, _arena.FreePageCount);

    private IDmaSgReply OnRegisterDevice(RegisterDevice m)
    {
        if (m.Device is null)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, "no device");
        }

        Runtime.Devices.Add(m.Device, ModelOf(m.Device), owned: false);
        return new DeviceRegistered(m.Device.Name);
    }

    private IDmaSgReply OnRemoveDevice(RemoveDevice m)
    {
        IDmaDevice device = Runtime.Devices.Get(m.Name);

        DeviceRemovalReport report;
        if (device is DmaApiChecker checker)
        {
            // The report first: once removed the device takes no new mappings, so whatever the checker finds pending
            // next is in the report too. (Taken after the checker threw, a buffer freed in between made it "clean".)
            report = checker.Inner.Remove();
            try
            {
                checker.Remove();
            }
            catch (DmaApiException e)
            {
                Log.Warning("{0}", e.Message);
            }
        }
        else
        {
            report = device.Remove();
        }

        if (!report.IsClean)
        {
            Log.Warning("device removed with live state: {0}", report);
        }

        return new DeviceRemoved(report);
    }

    /// <summary>A buffer the allocator watches, and its pages until they come home.</summary>
    private sealed class BufferRecord(long id, int[]? pages)
    {
        public long Id { get; } = id;

        public int[]? Pages { get; set; } = pages;

        /// <summary>A udmabuf was made of these pages: detach them before they are free again.</summary>
        public bool SharedWithKernel { get; set; }
    }
}

/// <summary>Test hook: replaces the arena's fault injector at run time. Reply: <see cref="Done"/>.</summary>
internal sealed record SetFaultInjector(IAllocFaultInjector? Injector) : IDmaSgRequest;
