using DmaSg.Interop;
using DmaSg.Interop.Linux;
using DmaSg.Memory.Arena;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Backends;

/// <summary>The udmabuf module's limits (drivers/dma-buf/udmabuf.c module parameters).</summary>
public readonly record struct UdmabufLimits(int ListLimit, long SizeLimitBytes)
{
    public static UdmabufLimits Default { get; } = new(Udmabuf.DefaultListLimit, (long)Udmabuf.DefaultSizeLimitMb << 20);

    /// <summary>
    /// Reads list_limit and size_limit_mb from <paramref name="parametersDirectory"/>
    /// (/sys/module/udmabuf/parameters); a value that is missing or unreadable keeps its default.
    /// </summary>
    public static UdmabufLimits Read(string parametersDirectory)
    {
        int list = ReadNumber(Path.Combine(parametersDirectory, "list_limit"), Udmabuf.DefaultListLimit);
        int mb = ReadNumber(Path.Combine(parametersDirectory, "size_limit_mb"), Udmabuf.DefaultSizeLimitMb);
        return new UdmabufLimits(list, (long)mb << 20);
    }

    private static int ReadNumber(string file, int fallback)
    {
        try
        {
            return int.TryParse(File.ReadAllText(file).Trim(), out int v) && v > 0 ? v : fallback;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return fallback;
        }
    }
}

/// <summary>
/// Real dmabufs from /dev/udmabuf (CONFIG_UDMABUF). <see cref="Export"/> turns an arena buffer's own
/// sg list into one dmabuf with UDMABUF_CREATE_LIST, one item per segment, without a copy: bytes
/// written through the dmabuf are in the arena and the reverse. The arena memfd carries F_SEAL_SHRINK
/// and not F_SEAL_WRITE, as udmabuf requires.
/// <para>
/// Limits: a buffer with more segments than udmabuf.list_limit (1024 by default) or more bytes than
/// udmabuf.size_limit_mb (64 MiB by default) fails with InvalidArgument naming the limit, and the chain
/// falls back to the next provider. It is not split: a dmabuf is one fd, and importers expect one buffer
/// to be one fd.
/// </para>
/// <para>
/// The kernel pins the pages in the dmabuf, so they stay alive while any fd or mapping of it exists,
/// but the arena would hand the same offsets out again. Before the pages of an exported buffer go back
/// to the free lists, call <see cref="DetachPages"/>: it punches them out of the arena memfd, so the
/// dmabuf keeps the old pages and the arena gets fresh zero pages there.
/// </para>
/// </summary>
public sealed class UdmabufProvider : IExportProvider
{
    public const string ProviderName = "udmabuf";
    public const string DefaultParameters = "/sys/module/udmabuf/parameters";

    private readonly DeviceOpener _device;

    /// <param name="devicePath">/dev/udmabuf; only tests change it.</param>
    /// <param name="limits">The limits to enforce; default: read from /sys/module/udmabuf/parameters.</param>
    public UdmabufProvider(string devicePath = Udmabuf.DevicePath, UdmabufLimits? limits = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(devicePath);
        _device = new DeviceOpener(devicePath, OpenFlags.ReadWrite, "kernel without CONFIG_UDMABUF");
        Limits = limits ?? UdmabufLimits.Read(DefaultParameters);
    }

    public string Name => ProviderName;

    public ExportKind Kind => ExportKind.Udmabuf;

    public UdmabufLimits Limits { get; }

    public string DevicePath => _device.Path;

    public ProviderStatus Probe() => _device.Status;

    /// <summary>A new dmabuf over a memfd of its own (the memfd is closed at once; the dmabuf holds its pages).</summary>
    public ExportedBuffer Allocate(long size, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        long aligned = ExportSupport.PageAligned(size);
        CheckLimits(1, aligned, name);
        SafeFd device = _device.Fd;
        using SafeFd memfd = Syscall.MemfdCreate(ExportSupport.MemfdName(name), MemfdFlags.Cloexec | MemfdFlags.AllowSealing);
        Syscall.Ftruncate(memfd, aligned);
        Syscall.AddSeals(memfd, SealFlags.Shrink | SealFlags.Grow | SealFlags.Seal);
        SafeFd fd = Syscall.UdmabufCreateList(device, memfd, [new UdmabufRange(0, (ulong)aligned)]);
        string? kernelName = ExportSupport.TryNameDmabuf(fd, name);
        return new ExportedBuffer(fd, ExportKind.Udmabuf, aligned, name, Name, sharesArenaPages: false, kernelName);
    }

    /// <summary>One dmabuf over the arena pages of <paramref name="sgt"/>, one udmabuf item per sg entry; no copy.</summary>
    public ExportedBuffer Export(PageArena arena, SgTable sgt, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        long size = ExportSupport.CheckArenaTable(arena, sgt, name);
        CheckLimits(sgt.OrigNents, size, name);
        SafeFd device = _device.Fd;
        var ranges = new UdmabufRange[sgt.OrigNents];
        for (int i = 0; i < ranges.Length; i++)
        {
            SgEntry e = sgt.Entries[i];
            ranges[i] = new UdmabufRange((ulong)e.Phys, (ulong)e.Length);
        }

        SafeFd fd = Syscall.UdmabufCreateList(device, arena.Fd, ranges);
        string? kernelName = ExportSupport.TryNameDmabuf(fd, name);
        return new ExportedBuffer(fd, ExportKind.Udmabuf, size, name, Name, sharesArenaPages: true, kernelName);
    }

    /// <summary>
    /// Punches the pages of <paramref name="sgt"/> out of the arena memfd (fallocate PUNCH_HOLE). Call it
    /// before an exported buffer's pages are freed: any udmabuf made from them keeps the old pages for as
    /// long as someone holds it, and the arena's next user of these offsets gets fresh zero pages instead
    /// of memory another process still maps.
    /// </summary>
    public static void DetachPages(PageArena arena, SgTable sgt)
    {
        ExportSupport.CheckArenaTable(arena, sgt, sgt?.Owner ?? "buffer");
        foreach (SgEntry e in sgt!.Entries)
        {
            Syscall.PunchHole(arena.Fd, e.Phys, e.Length);
        }
    }

    public void Dispose() => _device.Dispose();

    private void CheckLimits(int items, long size, string name)
    {
        if (items > Limits.ListLimit)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument,
                $"{name}: {items} segments exceed udmabuf.list_limit={Limits.ListLimit}; not split (one buffer is one dmabuf)");
        }

        if (size > Limits.SizeLimitBytes)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument,
                $"{name}: {size} bytes exceed udmabuf.size_limit_mb={Limits.SizeLimitBytes >> 20} ({Limits.SizeLimitBytes} bytes); not split (one buffer is one dmabuf)");
        }
    }
}
