using DmaSg.Memory.Arena;

namespace DmaSg.Memory.Tests.Arena;

/// <summary>
/// Watches every block allocation compacted allocation asks for: the order, and whether it succeeded
/// (the arena had a free block of that order or above and no fault was injected). Faults come from
/// an inner injector, or fail every allocation from the <c>failFrom</c>th on, which forces the
/// out-of-memory path after failFrom - 1 attempts.
/// </summary>
internal sealed class RecordingInjector(PageArena arena, IAllocFaultInjector? inner = null, int failFrom = 0) : IAllocFaultInjector
{
    public List<(int Order, bool Succeeded)> Calls { get; } = [];

    public bool ShouldFail(int order)
    {
        bool available = Enumerable.Range(order, arena.MaxOrder - order + 1).Any(o => arena.FreeBlocks(o) > 0);
        bool fail = (inner?.ShouldFail(order) ?? false) || (failFrom > 0 && Calls.Count + 1 >= failFrom);
        Calls.Add((order, available && !fail));
        return fail;
    }
}

/// <summary>Ways to leave an arena fragmented before a compacted allocation.</summary>
internal static class Fragmenter
{
    /// <summary>
    /// Takes single pages and blocks at random and gives some of them back, so the free lists hold a mix
    /// of orders. Returns what is still held (first page, order) so the caller can free it.
    /// </summary>
    public static List<(int First, int Order)> Scatter(PageArena arena, int seed)
    {
        var rng = new Random(seed);
        var held = new List<(int First, int Order)>();
        int steps = rng.Next(0, 3 * arena.TotalPages / 2);
        for (int i = 0; i < steps; i++)
        {
            int order = rng.Next(0, 4) == 0 ? rng.Next(0, arena.MaxOrder + 1) : 0;
            if (arena.TryAllocPages(order, out int first))
            {
                held.Add((first, order));
            }
        }

        for (int i = held.Count - 1; i >= 0; i--)
        {
            if (rng.Next(2) == 0)
            {
                arena.FreePages(held[i].First, held[i].Order);
                held.RemoveAt(i);
            }
        }

        return held;
    }

    /// <summary>
    /// The seed's rule replayed over the recorded calls: each call asks for the largest order not above
    /// what is left, a failure retries one order lower, and a failed order 0 ends it all.
    /// </summary>
    public static void AssertSeedOrders(IReadOnlyList<(int Order, bool Succeeded)> calls, int pageCount, int maxOrder, bool outOfMemory)
    {
        int remaining = pageCount;
        int expected = Largest(remaining, maxOrder);
        for (int i = 0; i < calls.Count; i++)
        {
            Assert.True(remaining > 0 && expected >= 0, $"call {i} after the allocation was over");
            Assert.Equal(expected, calls[i].Order);
            if (calls[i].Succeeded)
            {
                remaining -= 1 << expected;
                expected = remaining > 0 ? Largest(remaining, maxOrder) : -1;
            }
            else
            {
                expected--;
            }
        }

        // Out of memory after a failed order 0 (or before any call, when too few pages are free);
        // otherwise every page was found.
        if (outOfMemory && calls.Count > 0)
        {
            Assert.Equal(-1, expected);
        }

        Assert.Equal(!outOfMemory, remaining == 0);
    }

    /// <summary>The largest order whose block does not exceed <paramref name="pages"/> (get_order minus one when it would over-allocate).</summary>
    public static int Largest(int pages, int maxOrder) => Math.Min(31 - int.LeadingZeroCount(pages), maxOrder);
}
