using DmaSg.Interop;
using DmaSg.Interop.Linux;
using DmaSg.Kernel.Tests.Support;
using DmaSg.Memory;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Kernel.Tests.Backends;

/// <summary>/dev/udmabuf: an arena buffer's own sg list as one real dmabuf, its limits and seal rules.</summary>
public sealed class UdmabufTests
{
    private static readonly int Page = Arenas.Page;

    [Fact]
    public void Module_limits_are_read_from_sysfs()
    {
        Devices.RequireUdmabuf();

        UdmabufLimits limits = UdmabufLimits.Read(UdmabufProvider.DefaultParameters);

        Assert.Equal(1024, limits.ListLimit);
        Assert.Equal(64L << 20, limits.SizeLimitBytes);
    }

    [Fact]
    public void Multi_segment_arena_buffer_is_one_dmabuf_and_bytes_cross_both_ways()
    {
        Devices.RequireUdmabuf();
        using PageArena arena = Arenas.Create();
        int[] pages = Arenas.TakePages(arena, 9, 2, 3, 14, 7, 8);
        SgTable sgt = Arenas.Table(arena, pages);
        Assert.Equal(4, sgt.OrigNents); // [9] [2,3] [14] [7,8]
        using var udmabuf = new UdmabufProvider();

        using ExportedBuffer buffer = udmabuf.Export(arena, sgt, "multi");
        Assert.Equal(ExportKind.Udmabuf, buffer.Kind);
        Assert.True(buffer.SharesArenaPages);
        Assert.Equal(pages.Length * Page, buffer.Size);
        Assert.Equal("dmasg:multi", ProcFds.FdInfo(buffer.Fd.Fd)["name"]);
        using SafeMapping map = buffer.Map();
        Span<byte> dmabuf = map.AsSpan();

        // dmabuf -> arena: byte i of the dmabuf is byte i % Page of arena page pages[i / Page].
        buffer.BeginCpuAccess(DmaDirection.ToDevice);
        for (int i = 0; i < dmabuf.Length; i++)
        {
            dmabuf[i] = Arenas.Pattern(i, 1);
        }

        buffer.EndCpuAccess(DmaDirection.ToDevice);
        for (int k = 0; k < pages.Length; k++)
        {
            Span<byte> page = arena.PageSpan(pages[k]);
            for (int j = 0; j < Page; j++)
            {
                Assert.Equal(Arenas.Pattern(((long)k * Page) + j, 1), page[j]);
            }
        }

        // arena -> dmabuf
        for (int k = 0; k < pages.Length; k++)
        {
            Span<byte> page = arena.PageSpan(pages[k]);
            for (int j = 0; j < Page; j++)
            {
                page[j] = Arenas.Pattern(((long)k * Page) + j, 2);
            }
        }

        buffer.BeginCpuAccess(DmaDirection.FromDevice);
        for (int i = 0; i < dmabuf.Length; i++)
        {
            Assert.Equal(Arenas.Pattern(i, 2), dmabuf[i]);
        }

        buffer.EndCpuAccess(DmaDirection.FromDevice);
    }

    [Fact]
    public void More_segments_than_list_limit_fail_clearly_here_and_in_the_kernel()
    {
        Devices.RequireUdmabuf();
        using PageArena arena = Arenas.Create(12L << 20);
        int[] pages = Enumerable.Range(0, 1025).Select(i => i * 2).ToArray();
        Arenas.TakePages(arena, pages);
        SgTable sgt = Arenas.Table(arena, pages);
        Assert.Equal(1025, sgt.OrigNents);
        using var udmabuf = new UdmabufProvider();
        Assert.True(udmabuf.Probe().Usable);
        using SafeFd device = Syscall.Open(Udmabuf.DevicePath, OpenFlags.ReadWrite | OpenFlags.Cloexec);
        var before = ProcFds.Snapshot();

        var e = Assert.Throws<DmaSgException>(() => udmabuf.Export(arena, sgt, "too-many"));
        Assert.Equal(DmaSgError.InvalidArgument, e.Error);
        Assert.Contains("list_limit=1024", e.Message);

        // The kernel enforces the same limit when asked directly.
        UdmabufRange[] ranges = sgt.Entries.ToArray().Select(x => new UdmabufRange((ulong)x.Phys, (ulong)x.Length)).ToArray();
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => Syscall.UdmabufCreateList(device, arena.Fd, ranges)).Errno);

        // 1024 segments is fine.
        using ExportedBuffer ok = udmabuf.Export(arena, Arenas.Table(arena, pages[..1024]), "just-enough");
        Assert.Equal(1024L * Page, ok.Size);
        ok.Dispose();
        ProcFds.AssertSame(before, ProcFds.Snapshot());
    }

    [Fact]
    public void More_bytes_than_size_limit_fail_clearly_here_and_in_the_kernel()
    {
        Devices.RequireUdmabuf();
        using var udmabuf = new UdmabufProvider();
        long tooBig = (64L << 20) + Page;

        var e = Assert.Throws<DmaSgException>(() => udmabuf.Allocate(tooBig, "too-big"));
        Assert.Equal(DmaSgError.InvalidArgument, e.Error);
        Assert.Contains("size_limit_mb=64", e.Message);

        using SafeFd device = Syscall.Open(Udmabuf.DevicePath, OpenFlags.ReadWrite | OpenFlags.Cloexec);
        using SafeFd memfd = Syscall.MemfdCreate("too-big", MemfdFlags.Cloexec | MemfdFlags.AllowSealing);
        Syscall.Ftruncate(memfd, tooBig);
        Syscall.AddSeals(memfd, SealFlags.Shrink);
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() =>
            Syscall.UdmabufCreateList(device, memfd, [new UdmabufRange(0, (ulong)tooBig)])).Errno);

        using ExportedBuffer ok = udmabuf.Allocate(64L << 20, "at-limit");
        Assert.Equal(64L << 20, ok.Size);
    }

    [Fact]
    public void The_kernel_wants_F_SEAL_SHRINK_refuses_F_SEAL_WRITE_and_wants_a_memfd()
    {
        Devices.RequireUdmabuf();
        using SafeFd device = Syscall.Open(Udmabuf.DevicePath, OpenFlags.ReadWrite | OpenFlags.Cloexec);
        UdmabufRange[] one = [new UdmabufRange(0, (ulong)Page)];

        using SafeFd unsealed = Syscall.MemfdCreate("unsealed", MemfdFlags.Cloexec | MemfdFlags.AllowSealing);
        Syscall.Ftruncate(unsealed, Page);
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => Syscall.UdmabufCreateList(device, unsealed, one)).Errno);

        using SafeFd writeSealed = Syscall.MemfdCreate("write-sealed", MemfdFlags.Cloexec | MemfdFlags.AllowSealing);
        Syscall.Ftruncate(writeSealed, Page);
        Syscall.AddSeals(writeSealed, SealFlags.Shrink | SealFlags.Write);
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => Syscall.UdmabufCreateList(device, writeSealed, one)).Errno);

        using SafeFd notMemfd = Syscall.Open("/dev/null", OpenFlags.ReadWrite | OpenFlags.Cloexec);
        Assert.Equal(Errno.EBADFD, Assert.Throws<ErrnoException>(() => Syscall.UdmabufCreateList(device, notMemfd, one)).Errno);

        using SafeFd sealedOk = Syscall.MemfdCreate("sealed", MemfdFlags.Cloexec | MemfdFlags.AllowSealing);
        Syscall.Ftruncate(sealedOk, Page);
        Syscall.AddSeals(sealedOk, SealFlags.Shrink);
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() =>
            Syscall.UdmabufCreateList(device, sealedOk, [new UdmabufRange(1, (ulong)Page)])).Errno);
        using SafeFd created = Syscall.UdmabufCreateList(device, sealedOk, one);
        Assert.Equal(Page, Syscall.SizeOfFd(created));
    }

    [Fact]
    public void Detached_pages_stay_with_the_dmabuf_and_the_arena_gets_fresh_ones()
    {
        Devices.RequireUdmabuf();
        using PageArena arena = Arenas.Create();
        int[] pages = Arenas.TakePages(arena, 5, 1, 2);
        SgTable sgt = Arenas.Table(arena, pages);
        using var udmabuf = new UdmabufProvider();
        using ExportedBuffer buffer = udmabuf.Export(arena, sgt, "detach");
        using SafeMapping map = buffer.Map();
        arena.PageSpan(pages[0]).Fill(0xAB);

        // The buffer is freed while the dmabuf lives on: punch its pages out of the arena first.
        UdmabufProvider.DetachPages(arena, sgt);
        arena.FreePageList(pages);

        // The arena's next users take every page and write all over them.
        while (arena.TryAllocPages(0, out int page))
        {
            arena.PageSpan(page).Fill(0xCD);
        }

        buffer.BeginCpuAccess(DmaDirection.FromDevice);
        Span<byte> bytes = map.AsSpan();
        Assert.True(bytes[..Page].IndexOfAnyExcept((byte)0xAB) < 0, "the dmabuf's first page changed after its arena pages were reused");
        Assert.True(bytes[Page..].IndexOfAnyExcept((byte)0) < 0, "the arena's new users wrote into the exported dmabuf");
        buffer.EndCpuAccess(DmaDirection.FromDevice);
    }
}
