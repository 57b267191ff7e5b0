using DmaSg.Memory;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors;

/// <summary>The simulated DMA device models a device spec can name.</summary>
public enum DeviceModel
{
    /// <summary>DMA address = arena offset; syncs are no-ops.</summary>
    Coherent,

    /// <summary>Segments mapped into one contiguous IOVA range.</summary>
    Iommu,

    /// <summary>swiotlb: bounce memory, so a missing prepare/finish shows as stale data.</summary>
    Bounce,
}

/// <summary>A device the allocator builds at start (and disposes at stop).</summary>
/// <param name="Name">dev_name(); what requests name.</param>
/// <param name="Model">Which model simulates it.</param>
/// <param name="MaxSegment">dma_get_max_seg_size; null: the model's default.</param>
/// <param name="PoolSize">Bounce pool bytes (Bounce only); null: the model's default.</param>
/// <param name="AddressLimit">One past the highest DMA address; null: the model's default.</param>
public sealed record DeviceSpec(string Name, DeviceModel Model, long? MaxSegment = null, long? PoolSize = null, long? AddressLimit = null)
{
    /// <summary>Builds the device (not yet wrapped by a checker).</summary>
    public IDmaDevice Create() => Model switch
    {
        DeviceModel.Coherent => new CoherentDevice(Name, MaxSegment, AddressLimit ?? long.MaxValue),
        DeviceModel.Iommu => new IommuDevice(Name, addressLimit: AddressLimit ?? IommuDevice.DefaultAddressLimit, maxSegmentSize: MaxSegment),
        DeviceModel.Bounce => new BounceDevice(Name, PoolSize ?? BounceDevice.DefaultPoolSize,
            addressLimit: AddressLimit ?? BounceDevice.DefaultAddressLimit),
        _ => throw new DmaSgException(DmaSgError.InvalidArgument, $"unknown device model {Model}"),
    };
}

/// <summary>
/// Everything the allocator needs; <c>dmasg { ... }</c> in reference.conf documents each setting.
/// Build it in code, or from HOCON with <c>DmaSgSettings.FromConfig</c>.
/// </summary>
public sealed record DmaSgSettings
{
    /// <summary>Bytes of the page arena (whole pages). Default 256 MiB.</summary>
    public long ArenaSize { get; init; } = 256L << 20;

    /// <summary>Largest buddy order (blocks of 2^MaxOrder pages). Default 10.</summary>
    public int MaxOrder { get; init; } = 10;

    /// <summary>
    /// Where buffers come from: "memfd" (arena pages, the default) or "dma-heap" (each buffer one kernel dmabuf
    /// from /dev/dma_heap/<see cref="DmaHeapName"/>, CPU-mapped by mmap, prepare/finish with DMA_BUF_IOCTL_SYNC).
    /// </summary>
    public string Backend { get; init; } = MemfdBackend;

    /// <summary>The heap of the dma-heap backend: a file name under /dev/dma_heap ("system", "linux,cma", ...).</summary>
    public string DmaHeapName { get; init; } = DmaHeapProvider.DefaultHeap;

    /// <summary>
    /// What the dma-heap backend does when the heap cannot serve an allocation (missing device, EACCES, ENOMEM):
    /// "none" fails with the reason (DeviceGone naming the device, or OutOfMemory); "memfd" takes arena pages.
    /// </summary>
    public string DmaHeapFallback { get; init; } = "none";

    public const string MemfdBackend = "memfd";

    public const string DmaHeapBackend = "dma-heap";

    /// <summary>True when buffers are dma-heap dmabufs.</summary>
    public bool UsesDmaHeap => string.Equals(Backend, DmaHeapBackend, StringComparison.OrdinalIgnoreCase);

    /// <summary>How freed pages are zeroed before reuse.</summary>
    public ZeroStrategy Zero { get; init; } = ZeroStrategy.Memset;

    /// <summary>The arena memfd's name (shown in /proc/PID/maps).</summary>
    public string ArenaName { get; init; } = "dmasg-arena";

    /// <summary>A cap on every configured device's max segment size; null: each model's own.</summary>
    public long? MaxSegment { get; init; }

    /// <summary>Devices built at start. Default: one coherent device named "default".</summary>
    public IReadOnlyList<DeviceSpec> DeviceSpecs { get; init; } = [new DeviceSpec("default", DeviceModel.Coherent)];

    /// <summary>Devices built by the caller (registered as they are, never disposed by the allocator).</summary>
    public IReadOnlyList<IDmaDevice> Devices { get; init; } = [];

    /// <summary>Wrap configured devices in a DMA-API checker (CONFIG_DMA_API_DEBUG).</summary>
    public bool Checker { get; init; } = true;

    /// <summary>Throw: a misuse is refused with a DmaApiViolation reply; Record: logged and let through.</summary>
    public DmaApiCheckerMode CheckerMode { get; init; } = DmaApiCheckerMode.Throw;

    /// <summary>The seed's debug module parameter: messages of this level and below are logged at Debug.</summary>
    public int DebugLevel { get; init; }

    /// <summary>How long the facade waits for a reply.</summary>
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest byte count one ReadBytes/WriteBytes/DmaRead/DmaWrite may move.</summary>
    public int MaxChunk { get; init; } = 4 << 20;

    /// <summary>Test hook: fails chosen page-block allocations.</summary>
    public IAllocFaultInjector? FaultInjector { get; init; }

    /// <summary>
    /// dmasg.export.providers: who makes the fd of an ExportFd, tried in order ("dma-heap[:NAME]", "udmabuf",
    /// "memfd"). An unusable provider is logged once with its reason and skipped.
    /// </summary>
    public IReadOnlyList<string> ExportProviders { get; init; } = ProviderChain.DefaultOrder;

    /// <summary>Where the export providers find their devices; only tests change it.</summary>
    public ProviderOptions ExportOptions { get; init; } = new();

    /// <summary>dmasg.quota.default-pages: arena pages a holder may hold without an override; 0 = unlimited.</summary>
    public long QuotaDefaultPages { get; init; }

    /// <summary>dmasg.pools: the defaults of a new pool (its size is always given at creation).</summary>
    public Protocol.PoolConfig Pools { get; init; } = new();

    /// <summary>Throws InvalidArgument for settings the allocator cannot start with.</summary>
    public void Validate()
    {
        if (ArenaSize < Environment.SystemPageSize)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"dmasg.arena-size {ArenaSize} is below one page");
        }

        if (MaxOrder is < 0 or > 20)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"dmasg.max-order {MaxOrder} is outside 0..20");
        }

        if (!string.Equals(Backend, MemfdBackend, StringComparison.OrdinalIgnoreCase) && !UsesDmaHeap)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"dmasg.backend \"{Backend}\" is not memfd or dma-heap");
        }

        if (DmaHeapFallback is not ("none" or MemfdBackend))
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"dmasg.dma-heap.fallback \"{DmaHeapFallback}\" is not none or memfd");
        }

        if (string.IsNullOrEmpty(DmaHeapName) || DmaHeapName.Contains('/') || DmaHeapName is "." or "..")
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"dmasg.dma-heap.heap \"{DmaHeapName}\" is not a file name under /dev/dma_heap");
        }

        if (MaxSegment is <= 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"dmasg.max-segment {MaxSegment} must be positive");
        }

        if (MaxChunk <= 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"dmasg.max-chunk {MaxChunk} must be positive");
        }

        if (AskTimeout <= TimeSpan.Zero)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"dmasg.ask-timeout {AskTimeout} must be positive");
        }

        ValidateExportProviders();

        if (QuotaDefaultPages < 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"dmasg.quota.default-pages {QuotaDefaultPages} is negative");
        }

        // The template has no size of its own: check the rest with one page.
        ((Pools ?? throw new DmaSgException(DmaSgError.InvalidArgument, "dmasg.pools is missing")) with { Size = Environment.SystemPageSize }).Validate();

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in DeviceSpecs.Select(d => d.Name).Concat(Devices.Select(d => d.Name)))
        {
            if (string.IsNullOrEmpty(name) || !names.Add(name))
            {
                throw new DmaSgException(DmaSgError.InvalidArgument, $"device name \"{name}\" is empty or used twice");
            }
        }
    }

    /// <summary>Every provider name must be known and named once; nothing is opened here (providers open lazily).</summary>
    private void ValidateExportProviders()
    {
        if (ExportProviders is null || ExportProviders.Count == 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, "dmasg.export.providers is empty: name at least one of dma-heap[:NAME], udmabuf, memfd");
        }

        try
        {
            // The chain checks names and duplicates; building it opens no device.
            new ProviderChain(ExportProviders, options: ExportOptions).Dispose();
        }
        catch (DmaSgException e)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"dmasg.export.providers: {e.Detail}");
        }
    }
}
