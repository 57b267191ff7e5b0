using System.Collections.Concurrent;
using DmaSg.Interop;
using DmaSg.Memory.Arena;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Backends;

/// <summary>Where providers live and what limits they enforce; only tests point them elsewhere.</summary>
public sealed record ProviderOptions
{
    public string DmaHeapDirectory { get; init; } = DmaHeapProvider.DefaultDirectory;

    public string UdmabufDevice { get; init; } = Interop.Linux.Udmabuf.DevicePath;

    /// <summary>udmabuf limits; null reads /sys/module/udmabuf/parameters.</summary>
    public UdmabufLimits? UdmabufLimits { get; init; }
}

/// <summary>
/// Providers tried in a configured order, e.g. "dma-heap:system" → "udmabuf" → "memfd" (libcamera's
/// order). A provider that cannot be used (missing device, EACCES, ENOTTY...) is skipped and logged once
/// with its reason; a provider that fails one request (ENOMEM, a udmabuf limit) falls back to the next
/// for that request, each distinct failure logged once. Thread-safe: providers only hold device fds.
/// </summary>
/// <remarks>
/// Call <see cref="Export(PageArena, SgTable, string)"/> from the actor that owns the arena buffer: it reads
/// the buffer's pages, which must not be freed during the call.
/// </remarks>
public sealed class ProviderChain : IDisposable
{
    /// <summary>libcamera's order: a heap buffer if possible, else udmabuf, else a memfd.</summary>
    public static readonly IReadOnlyList<string> DefaultOrder = ["dma-heap:system", "udmabuf", "memfd"];

    private readonly IExportProvider[] _providers;
    private readonly Action<string> _log;
    private readonly ConcurrentDictionary<string, byte> _logged = new();
    private readonly ConcurrentDictionary<string, string> _brokenProviders = new();

    /// <summary>Builds the providers named in <paramref name="order"/>; see <see cref="CreateProvider"/>.</summary>
    /// <param name="log">Receives one line per unusable provider and per distinct fallback reason (a warning).</param>
    public ProviderChain(IEnumerable<string> order, Action<string>? log = null, ProviderOptions? options = null)
        : this(CreateProviders(order, options ?? new ProviderOptions()), log)
    {
    }

    public ProviderChain(IEnumerable<IExportProvider> providers, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(providers);
        _providers = providers.ToArray();
        if (_providers.Length == 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, "the provider order is empty: name at least one of dma-heap[:NAME], udmabuf, memfd");
        }

        _log = log ?? (_ => { });
    }

    public IReadOnlyList<IExportProvider> Providers => _providers;

    /// <summary>
    /// "dma-heap" or "dma-heap:NAME" (a heap under /dev/dma_heap), "udmabuf", "memfd". Anything else is
    /// InvalidArgument, so a typo in the configuration fails at start-up rather than falling back quietly.
    /// </summary>
    public static IExportProvider CreateProvider(string name, ProviderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        options ??= new ProviderOptions();
        string trimmed = name.Trim();
        if (trimmed == "dma-heap")
        {
            return new DmaHeapProvider(DmaHeapProvider.DefaultHeap, options.DmaHeapDirectory);
        }

        if (trimmed.StartsWith("dma-heap:", StringComparison.Ordinal) && trimmed.Length > "dma-heap:".Length)
        {
            return new DmaHeapProvider(trimmed["dma-heap:".Length..], options.DmaHeapDirectory);
        }

        return trimmed switch
        {
            UdmabufProvider.ProviderName => new UdmabufProvider(options.UdmabufDevice, options.UdmabufLimits),
            MemfdProvider.ProviderName => new MemfdProvider(),
            _ => throw new DmaSgException(DmaSgError.InvalidArgument, $"unknown dmabuf provider \"{name}\": use dma-heap[:NAME], udmabuf or memfd"),
        };
    }

    /// <summary>New exportable memory from the first provider that can give it.</summary>
    public ExportedBuffer Allocate(long size, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        ExportSupport.PageAligned(size);
        return Run(name, p => p.Allocate(size, name));
    }

    /// <summary>
    /// Exports an arena buffer (whole pages, as its sg table describes them) as an fd: a real dmabuf where
    /// the kernel allows it, a sealed memfd otherwise. See <see cref="ExportedBuffer.SharesArenaPages"/>
    /// for whether the fd aliases the pages (udmabuf) or holds a copy (dma-heap, memfd).
    /// </summary>
    public ExportedBuffer Export(PageArena arena, SgTable sgt, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        ExportSupport.CheckArenaTable(arena, sgt, name);
        return Run(name, p => p.Export(arena, sgt, name));
    }

    /// <summary>Exports arena pages given as a page list (buffer order); builds the sg table, merging consecutive pages.</summary>
    public ExportedBuffer Export(PageArena arena, ReadOnlySpan<int> pages, string name)
    {
        if (arena is null)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{name}: no arena");
        }

        foreach (int page in pages)
        {
            if ((uint)page >= (uint)arena.TotalPages || !arena.IsAllocated(page))
            {
                throw new DmaSgException(DmaSgError.InvalidArgument, $"{name}: page {page} is not an allocated page of the arena");
            }
        }

        var sgt = SgTable.FromArenaPages(arena, pages, 0, (long)pages.Length * arena.PageSize, long.MaxValue, name);
        return Export(arena, sgt, name);
    }

    public void Dispose()
    {
        foreach (IExportProvider p in _providers)
        {
            p.Dispose();
        }
    }

    private ExportedBuffer Run(string name, Func<IExportProvider, ExportedBuffer> op)
    {
        var reasons = new List<string>();
        for (int i = 0; i < _providers.Length; i++)
        {
            IExportProvider p = _providers[i];
            string next = i + 1 < _providers.Length ? $"falling back to {_providers[i + 1].Name}" : "no provider left";
            if (_brokenProviders.TryGetValue(p.Name, out string? broken))
            {
                reasons.Add($"{p.Name}: {broken}");
                continue;
            }

            ProviderStatus status = p.Probe();
            if (!status.Usable)
            {
                MarkBroken(p, status.Reason, next);
                reasons.Add($"{p.Name}: {status.Reason}");
                continue;
            }

            try
            {
                return op(p);
            }
            catch (ErrnoException e) when (IsPermanent(e.Errno))
            {
                // The device is there but is not what it claims (ENOTTY) or refuses us: never ask it again.
                MarkBroken(p, e.Message, next);
                reasons.Add($"{p.Name}: {e.Message}");
            }
            catch (Exception e) when (e is ErrnoException or DmaSgException)
            {
                string key = e is ErrnoException errno ? Errno.Name(errno.Errno) : ((DmaSgException)e).Error + ":" + FailureKind(((DmaSgException)e).Detail);
                LogOnce($"{p.Name}|fail|{key}", $"dmabuf provider {p.Name} could not serve {name}: {e.Message}; {next}");
                reasons.Add($"{p.Name}: {e.Message}");
            }
        }

        throw new DmaSgException(DmaSgError.OutOfMemory, $"{name}: no dmabuf provider could serve it ({string.Join("; ", reasons)})");
    }

    private static IExportProvider[] CreateProviders(IEnumerable<string> order, ProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(order);
        var created = new List<IExportProvider>();
        try
        {
            foreach (string name in order)
            {
                IExportProvider p = CreateProvider(name, options);
                if (created.Any(c => c.Name == p.Name))
                {
                    p.Dispose();
                    throw new DmaSgException(DmaSgError.InvalidArgument, $"dmabuf provider \"{name}\" is named twice");
                }

                created.Add(p);
            }

            return created.ToArray();
        }
        catch
        {
            created.ForEach(p => p.Dispose());
            throw;
        }
    }

    private void MarkBroken(IExportProvider p, string reason, string next)
    {
        _brokenProviders.TryAdd(p.Name, reason);
        LogOnce($"{p.Name}|unusable", $"dmabuf provider {p.Name} is unusable: {reason}; {next}");
    }

    private void LogOnce(string key, string message)
    {
        if (_logged.TryAdd(key, 0))
        {
            _log(message);
        }
    }

    private static bool IsPermanent(int errno) =>
        errno is Errno.ENOTTY or Errno.ENODEV or Errno.EACCES or Errno.EPERM or Errno.EOPNOTSUPP or Errno.ENOSYS;

    // A failure's kind without its numbers, so "5000 segments" and "6000 segments" log once.
    private static string FailureKind(string detail)
    {
        int colon = detail.IndexOf(": ", StringComparison.Ordinal);
        string rest = colon >= 0 ? detail[(colon + 2)..] : detail;
        return new string(rest.Where(c => !char.IsAsciiDigit(c)).ToArray());
    }
}
