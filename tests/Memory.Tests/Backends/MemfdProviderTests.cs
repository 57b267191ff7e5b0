using DmaSg.Interop;
using DmaSg.Interop.Linux;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;
using static DmaSg.Memory.Tests.Backends.BackendTestSupport;

namespace DmaSg.Memory.Tests.Backends;

public sealed class MemfdProviderTests
{
    [Fact]
    public void Allocate_gives_a_sealed_zeroed_memfd_of_whole_pages()
    {
        using var provider = new MemfdProvider();
        string name = "alloc-" + Guid.NewGuid().ToString("N")[..8];

        using ExportedBuffer buffer = provider.Allocate((2 * Page) + 1, name);

        Assert.Equal(ExportKind.Memfd, buffer.Kind);
        Assert.False(buffer.IsDmabuf);
        Assert.Equal(3 * Page, buffer.Size);
        Assert.Equal("memfd", buffer.Provider);
        Assert.Null(buffer.KernelName);
        Assert.Equal(SealFlags.Shrink | SealFlags.Grow | SealFlags.Seal, Syscall.GetSeals(buffer.Fd));
        Assert.True(MemfdOpen(name));
        Assert.Equal(Errno.EPERM, Assert.Throws<ErrnoException>(() => Syscall.Ftruncate(buffer.Fd, Page)).Errno);
        Assert.Equal(Errno.EPERM, Assert.Throws<ErrnoException>(() => Syscall.AddSeals(buffer.Fd, SealFlags.Write)).Errno);
        using SafeMapping map = buffer.Map();
        Assert.True(map.AsSpan().IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public void Export_copies_a_multi_segment_arena_buffer_in_buffer_order()
    {
        using PageArena arena = NewArena();
        int[] pages = TakePages(arena, 9, 2, 3, 14);
        SgTable sgt = Table(arena, pages);
        Assert.Equal(3, sgt.OrigNents);
        Fill(arena, pages, 5);
        using var provider = new MemfdProvider();

        using ExportedBuffer buffer = provider.Export(arena, sgt, "copy");
        using SafeMapping map = buffer.Map();

        Assert.False(buffer.SharesArenaPages);
        Assert.Equal(4 * Page, buffer.Size);
        AssertPattern(map.AsSpan(), 5);

        // A copy: later arena writes do not reach it, nor its writes the arena.
        arena.PageSpan(9).Fill(0xEE);
        map.AsSpan()[Page] = 0x11;
        Assert.Equal(FdPeer.Peer.Pattern(0, 5), map.AsSpan()[0]);
        Assert.Equal(FdPeer.Peer.Pattern(Page, 5), arena.PageSpan(2)[0]);
    }

    [Fact]
    public void Sync_on_a_memfd_is_a_no_op_but_a_bad_direction_is_still_refused()
    {
        using var provider = new MemfdProvider();
        using ExportedBuffer buffer = provider.Allocate(Page, "sync");

        buffer.BeginCpuAccess(DmaDirection.Bidirectional);
        buffer.EndCpuAccess(DmaDirection.ToDevice);
        buffer.Prepare(DmaDirection.FromDevice);
        buffer.Finish(DmaDirection.FromDevice);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => buffer.BeginCpuAccess(DmaDirection.None)).Error);
    }

    [Fact]
    public void Tables_that_are_not_whole_arena_pages_are_refused_and_nothing_is_created()
    {
        using PageArena arena = NewArena();
        using PageArena other = NewArena();
        int[] pages = TakePages(arena, 1, 2);
        using var provider = new MemfdProvider();

        var offset = SgTable.FromArenaPages(arena, pages, 100, Page, long.MaxValue, "offset");
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => provider.Export(arena, offset, "bad")).Error);
        var partial = SgTable.FromArenaPages(arena, pages, 0, Page + 10, long.MaxValue, "partial");
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => provider.Export(arena, partial, "bad")).Error);
        var foreign = Table(other, TakePages(other, 1));
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => provider.Export(arena, foreign, "bad")).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => provider.Export(null!, Table(arena, pages), "bad")).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => provider.Allocate(0, "bad")).Error);

        Assert.False(MemfdOpen("bad"));
        Assert.Equal(arena.TotalPages - 2, arena.FreePageCount);
    }
}
