using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using DmaSg.Actors;
using DmaSg.Actors.Allocator;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Memory.Dma;
using DmaSg.Properties.Tests.Model;
using DmaSg.Properties.Tests.Support;

namespace DmaSg.Properties.Tests.Sut;

/// <summary>
/// The real system of one case: a fresh allocator (own arena, own counters) under the shared ActorSystem, the
/// shared devices, client holders, and the binding of model tags to actors. Operations talk to it only through
/// the protocol; invariants are read only through GetStats and Inspect.
/// </summary>
public sealed class Sut : IAsyncDisposable
{
    private static int _cases;
    private static DeviceSet? _devices;

    private readonly ConcurrentDictionary<int, IActorRef> _actors = new();
    private readonly ConcurrentDictionary<IActorRef, int> _tags = new();
    private readonly ConcurrentDictionary<int, (int Buf, long Id)> _mmaps = new();
    private readonly ConcurrentDictionary<long, int> _mmapTags = new();
    private readonly ConcurrentDictionary<int, int> _importerAtts = new();
    private readonly ConcurrentBag<object> _keepAlive = [];
    private readonly ConcurrentBag<nint> _native = [];
    private bool _stopped;

    private Sut(SetupSpec spec, DeviceSet devices)
    {
        Spec = spec;
        Devices = devices;
        CaseId = Interlocked.Increment(ref _cases);
        ArenaName = $"{ArenaPrefix}{CaseId}";
        var settings = new DmaSgSettings
        {
            ArenaSize = (long)spec.Pages * Environment.SystemPageSize,
            MaxOrder = spec.MaxOrder,
            ArenaName = ArenaName,
            DeviceSpecs = [],
            Devices = devices.Devices,
            FaultInjector = Injector,
            AskTimeout = AskTimeout,
        };
        Allocator = System.ActorOf(AllocatorActor.Props(settings), $"dmasg-{CaseId}");
        for (int h = 1; h <= spec.Holders; h++)
        {
            Bind(h, System.ActorOf(Props.Create<HolderActor>(), $"h{h}-case{CaseId}"));
        }
    }

    public static TimeSpan AskTimeout { get; } = TimeSpan.FromSeconds(10);

    /// <summary>Every how many cases the arena's fd and mappings are looked up in /proc right after the case (1 in soak mode).</summary>
    public static int ProcCheckEvery { get; set; } =
        int.TryParse(Environment.GetEnvironmentVariable("DMASG_PROPS_PROC_EVERY"), out int n) && n > 0 ? n : 10;

    /// <summary>The arena name prefix: a sweep for it finds every case's leftovers at once.</summary>
    public const string ArenaPrefix = "props-arena-";

    /// <summary>How long the real system may take to reach the state the model predicts (DeathWatch is asynchronous).</summary>
    public static TimeSpan SettleTimeout { get; } = TimeSpan.FromMilliseconds(
        int.TryParse(Environment.GetEnvironmentVariable("DMASG_PROPS_SETTLE_MS"), out int ms) ? ms : 3000);

    public SetupSpec Spec { get; }

    public int CaseId { get; }

    public string ArenaName { get; }

    public ActorSystem System => PropsSystem.Instance;

    public IActorRef Allocator { get; }

    public DeviceSet Devices { get; }

    public SwitchableFaultInjector Injector { get; } = new();

    /// <summary>The first failure of this case; later operations are skipped, as the state no longer matches the model.</summary>
    public string? Failure { get; set; }

    /// <summary>Every call and its reply, for the report of a failing case.</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    /// <summary>Calls performed in this case (for the soak figures).</summary>
    public int Ops { get; set; }

    /// <summary>What the end-of-case check found still held after the full release (all zero unless something leaked).</summary>
    public LeakCounts Leaks { get; set; } = new(0, 0, 0, 0);

    /// <summary>The latest settled world the model predicted (what the end-of-case release starts from).</summary>
    public World? Model { get; set; }

    /// <summary>The allocator's stats before the first call: the free lists a full release must restore.</summary>
    public AllocatorStats InitialStats { get; private set; } = null!;

    /// <summary>A fresh allocator over the shared devices; a device set left dirty by a failed case is replaced.</summary>
    public static async Task<Sut> Start(SetupSpec spec)
    {
        if (_devices is null || !_devices.TryReset())
        {
            _devices?.Dispose();
            _devices = new DeviceSet();
        }

        var sut = new Sut(spec, _devices);
        sut.InitialStats = (AllocatorStats)await sut.Ask(sut.Allocator, GetStats.Instance).ConfigureAwait(false);
        sut.Model = World.Initial(spec.Pages, spec.Holders);
        return sut;
    }

    // ---- Binding of model tags to actors ----

    public void Bind(int tag, IActorRef actor)
    {
        _actors[tag] = actor;
        _tags[actor] = tag;
    }

    public bool TryGet(int tag, out IActorRef actor) => _actors.TryGetValue(tag, out actor!);

    public bool IsBound(int tag) => _actors.ContainsKey(tag) || _mmaps.ContainsKey(tag);

    public void BindMmap(int tag, int buf, long id)
    {
        _mmaps[tag] = (buf, id);
        _mmapTags[id] = tag;
    }

    public bool TryGetMmap(int tag, out (int Buf, long Id) mmap) => _mmaps.TryGetValue(tag, out mmap);

    public void BindImporterAtt(int importer, int att) => _importerAtts[importer] = att;

    /// <summary>The importer that made attachment <paramref name="att"/>.</summary>
    public bool ImporterOfAtt(int att, out int importer)
    {
        importer = _importerAtts.FirstOrDefault(p => p.Value == att).Key;
        return importer != 0;
    }

    public void KeepAlive(object o) => _keepAlive.Add(o);

    public void OwnNative(nint p) => _native.Add(p);

    // ---- Talking to the actors ----

    /// <summary>One protocol request and its one reply (UseAfterRelease when the target is dead).</summary>
    public async Task<IDmaSgReply> Ask(IActorRef target, IDmaSgRequest request)
    {
        try
        {
            return await DmaSgAsk.Request(System, target, request, AskTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            return new DmaSgFailure(Memory.DmaSgError.Io, $"TIMEOUT: {e.Message}");
        }
    }

    public Task StopActor(IActorRef target, StopMode mode) => Terminator.Stop(System, target, mode);

    // ---- Reading the real state ----

    /// <summary>
    /// The real state in <see cref="World.View"/>'s words, read through GetStats and Inspect only. Actors the
    /// model does not know print by path, so a stray actor shows up as a line of its own.
    /// </summary>
    public async Task<IReadOnlyList<string>> Observe()
    {
        // One Inspect carries the allocator's stats too; the allocator never dies within a case, so a plain Ask will do.
        var inspection = await Allocator.Ask<DmaSgInspection>(Inspect.Instance, AskTimeout).ConfigureAwait(false);
        AllocatorStats stats = inspection.Stats;
        foreach (ImporterInfo i in inspection.Importers)
        {
            if (i.Attachment is { } att && _tags.TryGetValue(i.Subject, out int imp) && _importerAtts.TryGetValue(imp, out int attTag))
            {
                Bind(attTag, att);
            }
        }

        var lines = new List<string> { $"pages used {stats.AllocatedPages}/{stats.TotalPages}" };
        foreach (BufferInfo b in inspection.Buffers)
        {
            string refs = string.Join(",", b.Holders.Where(h => h.Refs > 0)
                .Select(h => (Name: Name(h.Holder), h.Refs))
                .OrderBy(h => TagOrder(h.Name))
                .Select(h => $"{h.Name}:{h.Refs}"));
            string mmaps = string.Join(",", b.Mmaps
                .Select(m => (Name: _mmapTags.TryGetValue(m.MappingId, out int t) ? $"m{t}" : $"?mmap{m.MappingId}", Holder: Name(m.Holder)))
                .OrderBy(m => TagOrder(m.Name))
                .Select(m => $"{m.Name}@{m.Holder}"));
            lines.Add($"{Name(b.Subject)}: users {b.NumUsers} refs [{refs}] mmaps [{mmaps}] vaddr {b.HasVaddr}");
            foreach (DmaBufInfo d in b.DmaBufs)
            {
                string holders = string.Join(",", d.Holders.Where(h => h.Refs > 0)
                    .Select(h => (Name: Name(h.Holder), h.Refs))
                    .OrderBy(h => TagOrder(h.Name))
                    .Select(h => $"{h.Name}:{h.Refs}"));
                string atts = string.Join(",", d.Attachments.Select(a => Name(a.Subject)).OrderBy(TagOrder));
                lines.Add($"{Name(d.Subject)}: refs {d.RefCount} holders [{holders}] atts [{atts}]");
                foreach (AttachmentInfo a in d.Attachments)
                {
                    lines.Add($"{Name(a.Subject)}: {Name(d.Subject)} {a.Device} holder {Name(a.Holder)} dir {a.Direction} mapped {a.IsMapped}");
                }
            }
        }

        foreach (ImporterInfo i in inspection.Importers)
        {
            string att = i.Attachment is { } a ? Name(a) : "-";
            lines.Add($"{Name(i.Subject)}: {Name(i.DmaBuf)} holder {Name(i.Holder)} {i.State} att {att} vaddr {i.HasVaddr}");
        }

        foreach (DeviceStats dev in stats.Devices)
        {
            lines.Add($"dev {dev.Name}: refs {dev.RefCount} mappings {dev.LiveMappings} violations {dev.Violations} removed {dev.IsRemoved}");
        }

        LiveActorCounts c = stats.Actors;
        lines.Add($"actors: buffers {c.Buffers} dmabufs {c.DmaBufs} attachments {c.Attachments} importers {c.Importers}");
        lines.Add($"allocator: buffers {stats.LiveBuffers} importers {stats.LiveImporters} mmaps {stats.LiveMmaps} attachment-mappings {stats.AttachmentMappings} reclaimed {stats.PagesReclaimed}");
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>
    /// Waits until the real state reads like one of <paramref name="expected"/> (asynchronous DeathWatch work needs
    /// a moment). Returns null when it does, else a line diff against the closest candidate.
    /// </summary>
    public async Task<string?> SettleTo(IReadOnlyList<IReadOnlyList<string>> expected)
    {
        var sw = Stopwatch.StartNew();
        int delay = 0;
        IReadOnlyList<string> actual;
        while (true)
        {
            actual = await Observe().ConfigureAwait(false);
            if (expected.Any(e => e.SequenceEqual(actual)))
            {
                return null;
            }

            if (sw.Elapsed > SettleTimeout)
            {
                break;
            }

            // Polling as AwaitAssert does: DeathWatch and PostStop run on other threads.
            // Two immediate retries first: an actor's PostStop usually finishes while one observation runs.
            await Task.Delay(delay <= 2 ? 0 : delay - 2).ConfigureAwait(false);
            delay = delay < 3 ? delay + 1 : Math.Min(delay * 2, 50);
        }

        IReadOnlyList<string> closest = expected.MinBy(e => e.Except(actual).Count() + actual.Except(e).Count())!;
        return Diff(closest, actual);
    }

    public Task<string?> SettleTo(IReadOnlyList<string> expected) => SettleTo([expected]);

    public static string Diff(IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        var lines = new List<string> { "state differs from the model (- model, + actors):" };
        lines.AddRange(expected.Except(actual).Select(l => $"  - {l}"));
        lines.AddRange(actual.Except(expected).Select(l => $"  + {l}"));
        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>Stops the allocator (and with it every actor of the case); the arena's fd and mappings must be gone then.</summary>
    public async Task<string?> StopAndCheckResources()
    {
        if (_stopped)
        {
            return null;
        }

        _stopped = true;
        foreach (IActorRef holder in _actors.Where(a => a.Key < World.FirstObjectTag).Select(a => a.Value))
        {
            System.Stop(holder);
        }

        await StopActor(Allocator, StopMode.Stop).ConfigureAwait(false);
        var problems = new List<string>();
        if (CaseId % ProcCheckEvery != 0)
        {
            // Reading /proc costs more than a short case; PropRunner sweeps for every case's arena at the end.
            return null;
        }

        int fds = ProcSelf.FdsOf(ArenaName);
        int maps = ProcSelf.MappingsOf(ArenaName);
        Leaks = Leaks with { Fds = fds, ArenaMappings = maps };
        if (fds > 0)
        {
            problems.Add($"{fds} fds of {ArenaName} survive the allocator");
        }

        if (maps > 0)
        {
            problems.Add($"{maps} mappings of {ArenaName} survive the allocator");
        }

        return problems.Count == 0 ? null : string.Join(Environment.NewLine, problems);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAndCheckResources().ConfigureAwait(false);
        }
        finally
        {
            foreach (nint p in _native)
            {
                unsafe
                {
                    global::System.Runtime.InteropServices.NativeMemory.AlignedFree((void*)p);
                }
            }

            _native.Clear();
            _keepAlive.Clear();
        }
    }

    private string Name(IActorRef actor)
    {
        if (!_tags.TryGetValue(actor, out int tag))
        {
            return $"?{actor.Path.Name}";
        }

        return tag < World.FirstObjectTag ? $"h{tag}" : $"{KindOf(actor)}{tag}";
    }

    private static string KindOf(IActorRef actor)
    {
        string name = actor.Path.Name;
        return name.StartsWith("buffer-", StringComparison.Ordinal) ? "b"
            : name.StartsWith("dmabuf-", StringComparison.Ordinal) ? "d"
            : name.StartsWith("attachment-", StringComparison.Ordinal) ? "a"
            : name.StartsWith("importer-", StringComparison.Ordinal) ? "i"
            : "?";
    }

    private static long TagOrder(string name) => long.TryParse(name.AsSpan(1), out long n) ? n : long.MaxValue;
}

/// <summary>Pages, device/user mappings, arena fds and arena mappings still held after a case released everything.</summary>
public sealed record LeakCounts(long Pages, int Mappings, int Fds, int ArenaMappings)
{
    public static LeakCounts operator +(LeakCounts a, LeakCounts b) =>
        new(a.Pages + b.Pages, a.Mappings + b.Mappings, a.Fds + b.Fds, a.ArenaMappings + b.ArenaMappings);

    public override string ToString() => $"pages {Pages}, mappings {Mappings}, arena fds {Fds}, arena mappings {ArenaMappings}";
}

/// <summary>What a case starts from: arena pages and max order, holders, and how it releases everything at the end.</summary>
public sealed record SetupSpec(int Pages, int MaxOrder, int Holders, bool ReleaseByDeath)
{
    public override string ToString() =>
        $"arena {Pages} pages, max order {MaxOrder}, holders h1..h{Holders}, release by {(ReleaseByDeath ? "killing the holders" : "explicit puts")}";
}
