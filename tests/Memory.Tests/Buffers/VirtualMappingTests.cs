using DmaSg.Memory.Buffers;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DmaSg.Memory.Tests.Buffers;

public sealed class VirtualMappingTests
{
    private static readonly int PageSize = Environment.SystemPageSize;

    [Fact]
    public void Scattered_pages_become_one_range_with_one_mmap_per_run()
    {
        using var arena = BufferTestArena.Create(64);
        int[] pages = [5, 6, 7, 2, 9, 10, 0];
        using var vm = VirtualMapping.Map(arena, pages);

        Assert.Equal(4, vm.Runs);
        Assert.Equal(pages.Length, vm.PageCount);
        Assert.Equal((long)pages.Length * PageSize, vm.Length);
        Assert.Equal(0, vm.Address % PageSize);
    }

    [Fact]
    public void Bytes_written_through_the_mapping_are_in_the_arena_pages_and_back()
    {
        using var arena = BufferTestArena.Create(64);
        int[] pages = [12, 3, 4, 40, 41, 42, 1];
        using var vm = VirtualMapping.Map(arena, pages);

        var data = BufferTestArena.Pattern((int)vm.Length, seed: 3);
        data.CopyTo(vm.AsSpan());
        for (int i = 0; i < pages.Length; i++)
        {
            Assert.True(arena.PageSpan(pages[i]).SequenceEqual(data.AsSpan(i * PageSize, PageSize)), $"page {i} ({pages[i]})");
        }

        var back = BufferTestArena.Pattern(PageSize, seed: 9);
        back.CopyTo(arena.PageSpan(40));
        Assert.True(vm.AsSpan().Slice(3 * PageSize, PageSize).SequenceEqual(back));
    }

    [Fact]
    public void Dispose_unmaps_once_and_a_second_dispose_is_harmless()
    {
        using var arena = BufferTestArena.Create(64);
        var vm = VirtualMapping.Map(arena, [1, 3, 5]);
        Assert.Contains(vm.Address, BufferTestArena.MappingsOf(arena));
        Assert.Equal(4, BufferTestArena.MappingsOf(arena).Count); // the arena's own mapping + 3 runs

        vm.Dispose();
        vm.Dispose();

        Assert.True(vm.IsDisposed);
        Assert.Equal([arena.BaseAddress], BufferTestArena.MappingsOf(arena));
        Assert.Throws<ObjectDisposedException>(() => vm.AsSpan());
    }

    [Fact]
    public void Empty_or_foreign_pages_are_invalid_and_map_nothing()
    {
        using var arena = BufferTestArena.Create(16);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => VirtualMapping.Map(arena, [])).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => VirtualMapping.Map(arena, [1, 16])).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => VirtualMapping.Map(arena, [-1])).Error);
        Assert.Equal([arena.BaseAddress], BufferTestArena.MappingsOf(arena));
    }

    [Property(MaxTest = 40)]
    public Property Any_page_list_maps_in_order_with_one_run_per_break()
    {
        const int arenaPages = 32;
        var gen = Gen.Choose(1, 24).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, arenaPages - 1), n));
        return Prop.ForAll(gen.ToArbitrary(), pages =>
        {
            using var arena = BufferTestArena.Create(arenaPages, maxOrder: 4);
            for (int p = 0; p < arenaPages; p++)
            {
                arena.PageSpan(p).Fill((byte)(p + 1));
            }

            using var vm = VirtualMapping.Map(arena, pages);
            int expectedRuns = 1 + Enumerable.Range(1, pages.Length - 1).Count(i => pages[i] != pages[i - 1] + 1);
            var span = vm.AsSpan();
            bool bytesMatch = true;
            for (int i = 0; i < pages.Length; i++)
            {
                bytesMatch &= span[i * PageSize] == (byte)(pages[i] + 1) && span[((i + 1) * PageSize) - 1] == (byte)(pages[i] + 1);
            }

            return vm.Runs == expectedRuns && bytesMatch;
        });
    }
}
