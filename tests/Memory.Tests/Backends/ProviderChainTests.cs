using DmaSg.Interop.Linux;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Backends;
using static DmaSg.Memory.Tests.Backends.BackendTestSupport;

namespace DmaSg.Memory.Tests.Backends;

/// <summary>
/// Fallback order and logging, with devices that are deterministically missing or wrong on any machine:
/// a heap directory that does not exist, a regular file posing as a heap, /dev/null posing as /dev/udmabuf.
/// </summary>
public sealed class ProviderChainTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("dmasg-heaps-");
    private readonly List<string> _log = [];

    public void Dispose() => _dir.Delete(recursive: true);

    private ProviderOptions Options => new()
    {
        DmaHeapDirectory = _dir.FullName,
        UdmabufDevice = "/dev/null",
        UdmabufLimits = UdmabufLimits.Default,
    };

    [Fact]
    public void Missing_heap_falls_back_to_memfd_and_is_logged_once_with_its_reason()
    {
        using var chain = new ProviderChain(["dma-heap:system", "memfd"], _log.Add, Options);

        for (int i = 0; i < 5; i++)
        {
            using ExportedBuffer buffer = chain.Allocate(Page, "fallback");
            Assert.Equal(ExportKind.Memfd, buffer.Kind);
            Assert.Equal("memfd", buffer.Provider);
        }

        string line = Assert.Single(_log);
        Assert.Contains("dma-heap:system is unusable", line);
        Assert.Contains("missing device " + Path.Combine(_dir.FullName, "system"), line);
        Assert.Contains("ENOENT", line);
        Assert.Contains("falling back to memfd", line);
        Assert.Equal("usable", chain.Providers[1].Probe().Reason);
        Assert.False(chain.Providers[0].Probe().Usable);
    }

    [Fact]
    public void Device_that_is_not_a_heap_or_not_udmabuf_fails_with_ENOTTY_once_then_is_skipped()
    {
        File.WriteAllText(Path.Combine(_dir.FullName, "system"), "not a heap");
        using var chain = new ProviderChain(["dma-heap:system", "udmabuf", "memfd"], _log.Add, Options);
        using PageArena arena = NewArena();
        int[] pages = TakePages(arena, 4, 1);

        for (int i = 0; i < 3; i++)
        {
            using ExportedBuffer a = chain.Allocate(Page, "enotty");
            using ExportedBuffer b = chain.Export(arena, pages, "enotty");
            Assert.Equal(ExportKind.Memfd, a.Kind);
            Assert.Equal(ExportKind.Memfd, b.Kind);
        }

        Assert.Equal(2, _log.Count);
        Assert.Contains(_log, l => l.Contains("dma-heap:system is unusable") && l.Contains("DMA_HEAP_IOCTL_ALLOC") && l.Contains("ENOTTY"));
        Assert.Contains(_log, l => l.Contains("udmabuf is unusable") && l.Contains("UDMABUF_CREATE_LIST") && l.Contains("ENOTTY"));
    }

    [Fact]
    public void Request_failures_fall_back_for_that_request_and_log_once_per_kind()
    {
        var options = Options with { UdmabufDevice = "/dev/null", UdmabufLimits = new UdmabufLimits(2, 3L * Page) };
        using var chain = new ProviderChain(["udmabuf", "memfd"], _log.Add, options);
        using PageArena arena = NewArena();
        int[] pages = TakePages(arena, 1, 3, 5);

        // Three segments pass no list limit of 2; four pages pass no size limit of three: both are checked
        // before the device is touched, so they log as limits, twice each call, once each in the log.
        for (int i = 0; i < 3; i++)
        {
            using ExportedBuffer segments = chain.Export(arena, pages, "segments");
            using ExportedBuffer size = chain.Allocate(4 * Page, "size");
            Assert.Equal(ExportKind.Memfd, segments.Kind);
            Assert.Equal(ExportKind.Memfd, size.Kind);
        }

        Assert.Equal(2, _log.Count);
        Assert.Contains(_log, l => l.Contains("list_limit=2") && l.Contains("not split"));
        Assert.Contains(_log, l => l.Contains("size_limit_mb=0") && l.Contains("not split"));
    }

    [Fact]
    public void When_no_provider_can_serve_the_error_lists_every_reason()
    {
        using var chain = new ProviderChain(["dma-heap:a", "dma-heap:b"], _log.Add, Options);

        var e = Assert.Throws<DmaSgException>(() => chain.Allocate(Page, "none"));

        Assert.Equal(DmaSgError.OutOfMemory, e.Error);
        Assert.Contains("dma-heap:a: missing device", e.Message);
        Assert.Contains("dma-heap:b: missing device", e.Message);
        Assert.Equal(2, _log.Count);
        Assert.EndsWith("no provider left", _log[1]);
    }

    [Theory]
    [InlineData("dma-heap", "dma-heap:system")]
    [InlineData("dma-heap:system", "dma-heap:system")]
    [InlineData("dma-heap:linux,cma", "dma-heap:linux,cma")]
    [InlineData(" udmabuf ", "udmabuf")]
    [InlineData("memfd", "memfd")]
    public void Provider_names_parse(string name, string canonical)
    {
        using IExportProvider p = ProviderChain.CreateProvider(name, Options);

        Assert.Equal(canonical, p.Name);
    }

    [Theory]
    [InlineData("dma-heap:")]
    [InlineData("dma-heap:../etc")]
    [InlineData("ion")]
    [InlineData("")]
    public void Unknown_or_malformed_names_are_InvalidArgument(string name)
    {
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => ProviderChain.CreateProvider(name, Options)).Error);
    }

    [Fact]
    public void Empty_or_repeated_orders_are_InvalidArgument()
    {
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => new ProviderChain(Array.Empty<string>())).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => new ProviderChain(["memfd", "memfd"])).Error);
        Assert.Equal(["dma-heap:system", "udmabuf", "memfd"], ProviderChain.DefaultOrder);
    }

    [Fact]
    public void Export_of_pages_that_are_not_allocated_is_InvalidArgument_before_any_provider()
    {
        using var chain = new ProviderChain(["memfd"], _log.Add, Options);
        using PageArena arena = NewArena();
        int[] pages = TakePages(arena, 2);

        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => chain.Export(arena, [2, 3], "free-page")).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => chain.Export(arena, [2, 9999], "outside")).Error);
        Assert.Empty(_log);
        Assert.False(MemfdOpen("free-page"));
    }

    [Fact]
    public void Udmabuf_limits_are_read_from_module_parameters_or_default()
    {
        File.WriteAllText(Path.Combine(_dir.FullName, "list_limit"), "17\n");
        File.WriteAllText(Path.Combine(_dir.FullName, "size_limit_mb"), "garbage");

        UdmabufLimits limits = UdmabufLimits.Read(_dir.FullName);

        Assert.Equal(17, limits.ListLimit);
        Assert.Equal(64L << 20, limits.SizeLimitBytes);
        Assert.Equal(UdmabufLimits.Default, UdmabufLimits.Read(Path.Combine(_dir.FullName, "absent")));
        Assert.Equal(Udmabuf.DefaultListLimit, UdmabufLimits.Default.ListLimit);
    }
}
