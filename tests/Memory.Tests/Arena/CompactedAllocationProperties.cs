using System.Numerics;
using DmaSg.Memory.Arena;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DmaSg.Memory.Tests.Arena;

/// <summary>vb2_dma_sg_alloc_compacted's contract over random arenas, sizes and injected faults.</summary>
public sealed class CompactedAllocationProperties
{
    /// <summary>An arena of Blocks max-order blocks, and a page count that fits it.</summary>
    public sealed record Fresh(int MaxOrder, int Blocks, int PageCount);

    /// <summary>An arena left fragmented by a seeded random history, and a page count to ask for.</summary>
    public sealed record Fragmented(int Pages, int MaxOrder, int Seed, int PageCount);

    private static Arbitrary<Fresh> FreshArenas =>
        Arb.From(
            from maxOrder in Gen.Choose(0, 10)
            from blocks in Gen.Choose(1, maxOrder >= 9 ? 2 : 4)
            from pageCount in Gen.Choose(1, blocks << maxOrder)
            select new Fresh(maxOrder, blocks, pageCount));

    private static Arbitrary<Fragmented> FragmentedArenas =>
        Arb.From(
            from pages in Gen.Choose(1, 200)
            from maxOrder in Gen.Choose(0, 6)
            from seed in Gen.Choose(0, int.MaxValue)
            from pageCount in Gen.Choose(1, pages + 2)
            select new Fragmented(pages, maxOrder, seed, pageCount));

    [Property(MaxTest = 150)]
    public Property OnAnUnfragmentedArenaItTakesAtMostPopcountBlocksAndNeverOverAllocates() =>
        Prop.ForAll(FreshArenas, f =>
        {
            using PageArena arena = TestArenas.Create(f.Blocks << f.MaxOrder, f.MaxOrder);
            var recorder = new RecordingInjector(arena);
            arena.FaultInjector = recorder;

            int[] pages = CompactedAllocation.Allocate(arena, f.PageCount);

            Assert.Equal(f.PageCount, pages.Length);
            Assert.Equal((f.Blocks << f.MaxOrder) - f.PageCount, arena.FreePageCount);
            Assert.All(recorder.Calls, c => Assert.True(c.Succeeded)); // no fallback needed on a fresh arena

            // One block per set bit below max order, plus one max-order block per 2^MaxOrder pages; that is
            // popcount(pages) whenever max order does not cap the largest block.
            int low = f.PageCount & ((1 << f.MaxOrder) - 1);
            Assert.Equal((f.PageCount >> f.MaxOrder) + BitOperations.PopCount((uint)low), recorder.Calls.Count);
            if (f.PageCount < 2 << f.MaxOrder)
            {
                Assert.Equal(BitOperations.PopCount((uint)f.PageCount), recorder.Calls.Count);
            }

            AssertBlocks(arena, pages, recorder.Calls);
            Assert.Equal(Enumerable.Range(pages[0], f.PageCount), pages); // and they follow each other
        });

    [Property(MaxTest = 150)]
    public Property OnAFragmentedArenaItFollowsTheSeedsOrderRuleExactly() =>
        Prop.ForAll(FragmentedArenas, f =>
        {
            using PageArena arena = TestArenas.Create(f.Pages, f.MaxOrder);
            Fragmenter.Scatter(arena, f.Seed);
            FreeListSnapshot before = arena.Snapshot();
            long free = arena.FreePageCount;
            var recorder = new RecordingInjector(arena);
            arena.FaultInjector = recorder;

            int[]? pages = TryAllocate(arena, f.PageCount);

            Fragmenter.AssertSeedOrders(recorder.Calls, f.PageCount, f.MaxOrder, outOfMemory: pages is null);
            if (pages is null)
            {
                Assert.True(f.PageCount > free); // with no faults, only a lack of pages fails
                Assert.Equal(before, arena.Snapshot());
                return;
            }

            Assert.Equal(free - f.PageCount, arena.FreePageCount);
            AssertBlocks(arena, pages, recorder.Calls);
            arena.CheckInvariants();
        });

    [Property(MaxTest = 60)]
    public Property AtEveryInjectedFailurePointItSucceedsFullyOrRollsBackToTheSameArena() =>
        Prop.ForAll(FragmentedArenas, f =>
        {
            using PageArena arena = TestArenas.Create(f.Pages, f.MaxOrder);
            Fragmenter.Scatter(arena, f.Seed);
            FreeListSnapshot before = arena.Snapshot();
            long free = arena.FreePageCount;

            // How many block allocations a clean run makes: every failure point is within them.
            var clean = new RecordingInjector(arena);
            arena.FaultInjector = clean;
            Release(arena, TryAllocate(arena, f.PageCount));
            Assert.Equal(before, arena.Snapshot());
            int calls = clean.Calls.Count;

            var injectors = new List<Func<IAllocFaultInjector>>();
            for (int n = 1; n <= calls + 1; n++)
            {
                int nth = n;
                injectors.Add(() => new AllocFaultInjector { FailNth = nth });
                injectors.Add(() => new AllocFaultInjector { FailNth = nth, FailOrderAtLeast = f.MaxOrder });
            }

            for (int k = 0; k <= f.MaxOrder + 1; k++)
            {
                int order = k;
                injectors.Add(() => new AllocFaultInjector { FailOrderAtLeast = order });
            }

            foreach (Func<IAllocFaultInjector> make in injectors)
            {
                var recorder = new RecordingInjector(arena, make());
                arena.FaultInjector = recorder;
                int[]? pages = TryAllocate(arena, f.PageCount);
                Fragmenter.AssertSeedOrders(recorder.Calls, f.PageCount, f.MaxOrder, outOfMemory: pages is null);
                if (pages is not null)
                {
                    Assert.Equal(f.PageCount, pages.Length);
                    Assert.Equal(free - f.PageCount, arena.FreePageCount);
                    AssertBlocks(arena, pages, recorder.Calls);
                    Release(arena, pages);
                }

                arena.CheckInvariants();
                Assert.Equal(before, arena.Snapshot());
                Assert.Equal(free, arena.FreePageCount);
            }

            // Failing every allocation from the Nth on forces the out-of-memory path after N-1 attempts.
            for (int n = 1; n <= calls; n++)
            {
                var recorder = new RecordingInjector(arena, failFrom: n);
                arena.FaultInjector = recorder;
                Assert.Null(TryAllocate(arena, f.PageCount));
                Fragmenter.AssertSeedOrders(recorder.Calls, f.PageCount, f.MaxOrder, outOfMemory: true);
                arena.CheckInvariants();
                Assert.Equal(before, arena.Snapshot());
                Assert.Equal(free, arena.FreePageCount);
            }
        });

    [Property(MaxTest = 100)]
    public Property FreeingAPageListByRunsLeavesTheSameFreeListsAsFreeingPageByPage() =>
        Prop.ForAll(FragmentedArenas, Arb.From(Gen.Choose(0, 2)), (f, shape) =>
        {
            using PageArena byRuns = TestArenas.Create(f.Pages, f.MaxOrder);
            using PageArena byPage = TestArenas.Create(f.Pages, f.MaxOrder);
            Fragmenter.Scatter(byRuns, f.Seed);
            Fragmenter.Scatter(byPage, f.Seed);
            int[]? pages = TryAllocate(byRuns, f.PageCount);
            int[]? same = TryAllocate(byPage, f.PageCount);
            Assert.Equal(pages, same);
            if (pages is null)
            {
                return;
            }

            // Block order as allocated, sorted (long runs across blocks), or shuffled (runs broken up).
            if (shape == 1)
            {
                Array.Sort(pages);
            }
            else if (shape == 2)
            {
                new Random(f.Seed).Shuffle(pages);
            }

            byRuns.FreePageList(pages);
            for (int i = pages.Length - 1; i >= 0; i--)
            {
                byPage.FreePage(pages[i]);
            }

            byRuns.CheckInvariants();
            Assert.Equal(byPage.Snapshot(), byRuns.Snapshot());
            Assert.Equal(byPage.FreePageCount, byRuns.FreePageCount);

            // A page freed twice is refused, as FreePage refuses it.
            Assert.Throws<InvalidOperationException>(() => byRuns.FreePageList(pages.AsSpan(0, 1)));
        });

    /// <summary>The pages, or null when the answer was OutOfMemory (any other failure fails the test).</summary>
    private static int[]? TryAllocate(PageArena arena, int pageCount)
    {
        try
        {
            return CompactedAllocation.Allocate(arena, pageCount);
        }
        catch (DmaSgException ex) when (ex.Error == DmaSgError.OutOfMemory)
        {
            return null;
        }
    }

    private static void Release(PageArena arena, int[]? pages)
    {
        IAllocFaultInjector? injector = arena.FaultInjector;
        arena.FaultInjector = null;
        arena.FreePageList(pages ?? []);
        arena.FaultInjector = injector;
    }

    /// <summary>The page list is the successful blocks in call order, each aligned, consecutive inside, and allocated.</summary>
    private static void AssertBlocks(PageArena arena, int[] pages, IReadOnlyList<(int Order, bool Succeeded)> calls)
    {
        Assert.Equal(pages.Length, pages.Distinct().Count());
        int at = 0;
        foreach ((int order, _) in calls.Where(c => c.Succeeded))
        {
            int first = pages[at];
            Assert.Equal(0, first & ((1 << order) - 1));
            for (int i = 0; i < 1 << order; i++)
            {
                Assert.Equal(first + i, pages[at + i]);
                Assert.True(arena.IsAllocated(first + i));
            }

            at += 1 << order;
        }

        Assert.Equal(pages.Length, at);
    }
}
