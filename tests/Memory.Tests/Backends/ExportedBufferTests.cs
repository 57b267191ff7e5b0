using DmaSg.Interop;
using DmaSg.Interop.Linux;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Dma;
using static DmaSg.Memory.Tests.Backends.BackendTestSupport;

namespace DmaSg.Memory.Tests.Backends;

public sealed class ExportedBufferTests
{
    [Fact]
    public void Adopt_takes_the_size_from_the_kernel_and_refuses_a_lie_closing_the_fd()
    {
        string name = "adopt-" + Guid.NewGuid().ToString("N")[..8];
        SafeFd fd = Syscall.MemfdCreate("dmasg:" + name, MemfdFlags.Cloexec);
        Syscall.Ftruncate(fd, 2 * Page);

        var e = Assert.Throws<DmaSgException>(() => ExportedBuffer.Adopt(fd, ExportKind.Memfd, 3 * Page, name));

        Assert.Equal(DmaSgError.InvalidArgument, e.Error);
        Assert.Contains($"declared {3 * Page} bytes, but the fd holds {2 * Page}", e.Message);
        Assert.True(fd.IsClosed);
        Assert.False(MemfdOpen(name));
    }

    [Fact]
    public void Adopt_refuses_an_fd_without_a_size_and_an_unknown_kind()
    {
        (SafeFd a, SafeFd b) = Syscall.UnixSocketPair(SocketType.SeqPacket | SocketType.Cloexec);
        using (b)
        {
            Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => ExportedBuffer.Adopt(a, ExportKind.Memfd, Page, "socket")).Error);
            Assert.True(a.IsClosed);
        }

        SafeFd m = Syscall.MemfdCreate("kind", MemfdFlags.Cloexec);
        Syscall.Ftruncate(m, Page);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => ExportedBuffer.Adopt(m, (ExportKind)9, Page, "kind")).Error);
        Assert.True(m.IsClosed);
    }

    [Fact]
    public void Dispose_closes_once_and_the_fd_is_gone_afterwards()
    {
        using var provider = new MemfdProvider();
        string name = "dispose-" + Guid.NewGuid().ToString("N")[..8];
        ExportedBuffer buffer = provider.Allocate(Page, name);
        Assert.True(MemfdOpen(name));

        buffer.Dispose();
        buffer.Dispose();

        Assert.False(MemfdOpen(name));
        Assert.Throws<ObjectDisposedException>(() => buffer.Fd);
        Assert.Throws<ObjectDisposedException>(() => buffer.Map());
    }

    [Fact]
    public void Detach_hands_the_fd_over_and_duplicate_gives_an_independent_one()
    {
        using var provider = new MemfdProvider();
        string name = "detach-" + Guid.NewGuid().ToString("N")[..8];
        ExportedBuffer buffer = provider.Allocate(Page, name);
        SafeFd dup = buffer.DuplicateFd();

        SafeFd mine = buffer.DetachFd();
        buffer.Dispose();
        Assert.False(mine.IsClosed);
        Assert.Equal(Page, Syscall.SizeOfFd(mine));
        mine.Dispose();
        Assert.True(MemfdOpen(name));
        dup.Dispose();
        Assert.False(MemfdOpen(name));
    }

    [Fact]
    public void Cpu_sg_table_is_one_range_over_the_mapping()
    {
        using var provider = new MemfdProvider();
        using ExportedBuffer buffer = provider.Allocate(3 * Page, "sg");
        using SafeMapping map = buffer.Map();
        using SafeMapping small = Syscall.Mmap((nuint)Page, Protection.Read, MapFlags.Shared, buffer.Fd, 0);

        var sgt = buffer.CpuSgTable(map);

        Assert.Equal(1, sgt.OrigNents);
        Assert.Equal(new global::DmaSg.Memory.ScatterGather.SgEntry(0, map.Address, 3 * Page), sgt.Entries[0]);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => buffer.CpuSgTable(small)).Error);
    }

    [Theory]
    [InlineData(DmaDirection.ToDevice, DmaBufSyncFlags.Write)]
    [InlineData(DmaDirection.FromDevice, DmaBufSyncFlags.Read)]
    [InlineData(DmaDirection.Bidirectional, DmaBufSyncFlags.ReadWrite)]
    public void Direction_picks_the_sync_access(DmaDirection dir, DmaBufSyncFlags flags)
    {
        Assert.Equal(flags, ExportedBuffer.SyncFlags(dir));
    }
}
