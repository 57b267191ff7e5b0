using DmaSg.Interop;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Dma;
using static DmaSg.Memory.Tests.Backends.BackendTestSupport;

namespace DmaSg.Memory.Tests.Backends;

/// <summary>BufferExport on this machine: a memfd copy kept coherent by prepare (buffer -> fd) and finish (fd -> buffer).</summary>
[Collection(FdTableCollection.Name)]
public sealed class BufferExportTests
{
    [Theory]
    [InlineData(DmaDirection.ToDevice, true, false)]
    [InlineData(DmaDirection.FromDevice, false, true)]
    [InlineData(DmaDirection.Bidirectional, true, true)]
    public void A_copy_follows_the_bounce_buffer_rules_of_its_direction(DmaDirection direction, bool prepareCopies, bool finishCopies)
    {
        using PageArena arena = NewArena();
        int[] pages = TakePages(arena, 5, 2, 3, 11);
        Fill(arena, pages, 1);
        using var chain = new ProviderChain(["memfd"]);
        using var export = BufferExport.Create(chain, arena, Table(arena, pages), direction, "bounce-rules");
        Assert.True(export.IsCopy);
        Assert.False(export.SharesArenaPages);
        Assert.Equal(direction, export.Direction);
        using SafeMapping map = export.Buffer.Map();
        AssertPattern(map.AsSpan(), 1);

        Fill(arena, pages, 2);
        export.Prepare();
        AssertPattern(map.AsSpan(), prepareCopies ? 2 : 1);

        for (int i = 0; i < map.AsSpan().Length; i++)
        {
            map.AsSpan()[i] = FdPeer.Peer.Pattern(i, 3);
        }

        export.Finish();
        AssertPattern(Gathered(arena, pages), finishCopies ? 3 : 2);
    }

    [Fact]
    public void A_bad_direction_opens_nothing()
    {
        using PageArena arena = NewArena();
        int[] pages = TakePages(arena, 1);
        using var chain = new ProviderChain(["memfd"]);
        var fds = OurFds();
        var e = Assert.Throws<DmaSgException>(() => BufferExport.Create(chain, arena, Table(arena, pages), DmaDirection.None, "bad-dir"));
        Assert.Equal(DmaSgError.InvalidArgument, e.Error);
        Assert.Equal(fds, OurFds());
    }

    [Fact]
    public void Sync_after_the_fd_was_closed_is_use_after_release_and_dispose_is_idempotent()
    {
        using PageArena arena = NewArena();
        int[] pages = TakePages(arena, 4, 5);
        using var chain = new ProviderChain(["memfd"]);
        var fds = OurFds();
        var export = BufferExport.Create(chain, arena, Table(arena, pages), DmaDirection.Bidirectional, "closed-early");
        Assert.True(MemfdOpen("closed-early"));

        // The fd's owner may close it; the export then refuses to sync instead of crashing its actor.
        export.Buffer.Dispose();
        Assert.Equal(DmaSgError.UseAfterRelease, Assert.Throws<DmaSgException>(export.Prepare).Error);
        Assert.Equal(DmaSgError.UseAfterRelease, Assert.Throws<DmaSgException>(export.Finish).Error);

        export.Dispose();
        export.Dispose();
        Assert.Equal(DmaSgError.UseAfterRelease, Assert.Throws<DmaSgException>(export.Prepare).Error);
        Assert.Equal(fds, OurFds());
    }

    private static byte[] Gathered(PageArena arena, int[] pages) => pages.SelectMany(p => arena.PageSpan(p).ToArray()).ToArray();
}
