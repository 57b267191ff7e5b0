using DmaSg.Memory.Arena;

namespace DmaSg.Memory.Tests.Arena;

/// <summary>Counting every fd of the process only means something while no other test opens or closes one.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FdCountCollection
{
    public const string Name = "fd count (runs alone)";
}

[Collection(FdCountCollection.Name)]
public sealed class PageArenaDisposeTests
{
    [Fact]
    public void DisposeUnmapsAndClosesAndTheFdCountIsBackToBefore()
    {
        int before = SettledFdCount();
        var arena = TestArenas.Create(256, 6);
        string name = arena.Name;
        Assert.True(arena.TryAllocPages(3, out int block));
        TestArenas.Scribble(arena, block, 1);

        Assert.Equal(before + 1, TestArenas.FdCount());
        Assert.Equal(1, TestArenas.FdsOfMemfd(name));
        Assert.Equal(1, TestArenas.MappingsOfMemfd(name));

        arena.Dispose();

        Assert.Equal(0, TestArenas.FdsOfMemfd(name));
        Assert.Equal(0, TestArenas.MappingsOfMemfd(name));
        Assert.True(arena.Fd.IsClosed);
        Assert.Equal(before, TestArenas.FdCount());
    }

    [Fact]
    public void DisposingTwiceIsHarmlessAndUseAfterDisposeThrows()
    {
        int before = SettledFdCount();
        var arena = TestArenas.Create(16, 2);
        Assert.True(arena.TryAllocPages(0, out int page));

        arena.Dispose();
        arena.Dispose();

        Assert.Throws<ObjectDisposedException>(() => arena.TryAllocPages(0, out _));
        Assert.Throws<ObjectDisposedException>(() => arena.FreePage(page));
        Assert.Throws<ObjectDisposedException>(() => arena.AddressOf(page));
        Assert.Throws<ObjectDisposedException>(() => arena.PageSpan(page).Length); // would fault on the gone mapping
        Assert.Throws<ObjectDisposedException>(() => CompactedAllocation.Allocate(arena, 1));
        Assert.Equal(before, TestArenas.FdCount());
    }

    [Fact]
    public void ManyArenasLeaveNoFdOrMappingBehind()
    {
        int before = SettledFdCount();
        var names = new List<string>();
        for (int i = 0; i < 20; i++)
        {
            using var arena = TestArenas.Create(64 + i, i % 7);
            names.Add(arena.Name);
            CompactedAllocation.Allocate(arena, 1 + i);
        }

        Assert.Equal(before, TestArenas.FdCount());
        Assert.All(names, n => Assert.Equal(0, TestArenas.MappingsOfMemfd(n)));
    }

    [Fact]
    public void BadOptionsLeaveTheFdCountAlone()
    {
        int before = SettledFdCount();

        Assert.Throws<DmaSgException>(() => TestArenas.Create(0, 3));
        Assert.Throws<DmaSgException>(() => TestArenas.Create(16, 99));

        Assert.Equal(before, TestArenas.FdCount());
    }

    /// <summary>The fd count once earlier tests' unreachable handles have been finalized and closed.</summary>
    private static int SettledFdCount()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return TestArenas.FdCount();
    }
}
