using DmaSg.Memory.Arena;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DmaSg.Memory.Tests.Arena;

/// <summary>
/// The buddy allocator against a model of who holds which pages, over random alloc/split/free and
/// compacted-allocation sequences on arenas of any size and max order, for both zeroing strategies.
/// </summary>
public sealed class PageArenaProperties
{
    public enum Kind
    {
        Alloc,
        Split,
        Free,
        Compacted,
    }

    /// <summary>One step; A picks an order or a page count, B picks a live block modulo how many there are.</summary>
    public sealed record Op(Kind Kind, int A, int B)
    {
        public override string ToString() => $"{Kind}({A},{B})";
    }

    /// <summary>An arena shape, the steps, and the order in which whatever is still held gets freed at the end.</summary>
    public sealed record Scenario(int Pages, int MaxOrder, ZeroStrategy Zero, Op[] Ops, int FreeOrderSeed)
    {
        public override string ToString() =>
            $"{Pages} pages, max order {MaxOrder}, {Zero}, free seed {FreeOrderSeed}: {string.Join(" ", Ops.Select(o => o.ToString()))}";
    }

    private static Gen<Op> OpGen =>
        from kind in Gen.Frequency(
            (5, Gen.Constant(Kind.Alloc)), (2, Gen.Constant(Kind.Split)), (5, Gen.Constant(Kind.Free)), (2, Gen.Constant(Kind.Compacted)))
        from a in Gen.Choose(-1, 40)
        from b in Gen.Choose(0, 1000)
        select new Op(kind, a, b);

    private static Arbitrary<Scenario> Scenarios =>
        Arb.From(
            from pages in Gen.Choose(1, 300)
            from maxOrder in Gen.Choose(0, 7)
            from zero in Gen.Elements(ZeroStrategy.Memset, ZeroStrategy.PunchHole)
            from n in Gen.Choose(1, 60)
            from ops in Gen.ArrayOf(OpGen, n)
            from seed in Gen.Choose(0, int.MaxValue)
            select new Scenario(pages, maxOrder, zero, ops, seed),
            Shrink);

    [Property(MaxTest = 200)]
    public Property AnyAllocFreeSequenceKeepsTheInvariantsAndMergesBackToTheInitialFreeLists() =>
        Prop.ForAll(Scenarios, s =>
        {
            using PageArena arena = TestArenas.Create(s.Pages, s.MaxOrder, s.Zero);
            FreeListSnapshot initial = arena.Snapshot();
            var model = new Model(arena);

            foreach (Op op in s.Ops)
            {
                model.Run(op);
                model.Check();
            }

            var rng = new Random(s.FreeOrderSeed);
            while (model.Held.Count > 0)
            {
                model.Free(rng.Next(model.Held.Count));
                model.Check();
            }

            Assert.Equal(initial, arena.Snapshot());
            Assert.Equal(s.Pages, arena.FreePageCount);
        });

    private static IEnumerable<Scenario> Shrink(Scenario s)
    {
        for (int i = 0; i < s.Ops.Length; i++)
        {
            yield return s with { Ops = [.. s.Ops[..i], .. s.Ops[(i + 1)..]] };
        }

        if (s.Pages > 1)
        {
            yield return s with { Pages = s.Pages / 2 };
        }
    }

    /// <summary>The blocks the test holds, checked against the arena after every step.</summary>
    private sealed class Model(PageArena arena)
    {
        private int _scribbles;

        /// <summary>Held blocks: first page, order, and whether split_page has turned it into single pages.</summary>
        public List<(int First, int Order, bool Split)> Held { get; } = [];

        public void Run(Op op)
        {
            switch (op.Kind)
            {
                case Kind.Alloc:
                    Alloc(Math.Min(op.A, arena.MaxOrder + 1));
                    break;
                case Kind.Split when Held.Count > 0:
                    Split(op.B % Held.Count);
                    break;
                case Kind.Free when Held.Count > 0:
                    Free(op.B % Held.Count);
                    break;
                case Kind.Compacted:
                    Compacted(Math.Max(1, op.A * arena.TotalPages / 40));
                    break;
            }
        }

        public void Free(int index)
        {
            (int first, int order, bool split) = Held[index];
            Held.RemoveAt(index);
            if (split)
            {
                // A split block goes back page by page, highest first, as vb2 frees its page array.
                for (int p = first + (1 << order) - 1; p >= first; p--)
                {
                    arena.FreePage(p);
                }
            }
            else
            {
                arena.FreePages(first, order);
            }
        }

        /// <summary>No overlap, every held page allocated and every other page free, free + allocated = total.</summary>
        public void Check()
        {
            arena.CheckInvariants();
            var mine = new bool[arena.TotalPages];
            long held = 0;
            foreach ((int first, int order, _) in Held)
            {
                for (int p = first; p < first + (1 << order); p++)
                {
                    Assert.False(mine[p], $"page {p} handed out twice");
                    mine[p] = true;
                }

                held += 1L << order;
            }

            for (int p = 0; p < arena.TotalPages; p++)
            {
                Assert.Equal(mine[p], arena.IsAllocated(p));
            }

            Assert.Equal(held, arena.AllocatedPageCount);
            Assert.Equal(arena.TotalPages, arena.FreePageCount + arena.AllocatedPageCount);
            Assert.Equal(arena.FreePageCount, Enumerable.Range(0, arena.MaxOrder + 1).Sum(o => (long)arena.FreeBlocks(o) << o));
        }

        private void Alloc(int order)
        {
            bool fits = order >= 0 && order <= arena.MaxOrder &&
                        Enumerable.Range(order, arena.MaxOrder - order + 1).Any(o => arena.FreeBlocks(o) > 0);
            FreeListSnapshot before = arena.Snapshot();

            bool ok = arena.TryAllocPages(order, out int first);

            Assert.Equal(fits, ok);
            if (!ok)
            {
                Assert.Equal(before, arena.Snapshot());
                return;
            }

            Assert.Equal(0, first & ((1 << order) - 1)); // buddy blocks are aligned to their size
            HandOut(first, 1 << order);
            Held.Add((first, order, false));
        }

        private void Split(int index)
        {
            (int first, int order, bool split) = Held[index];
            if (!split)
            {
                arena.SplitPage(first, order);
                Held[index] = (first, order, true);
            }
        }

        private void Compacted(int pageCount)
        {
            FreeListSnapshot before = arena.Snapshot();
            long free = arena.FreePageCount;
            int[] pages;
            try
            {
                pages = CompactedAllocation.Allocate(arena, pageCount);
            }
            catch (DmaSgException ex)
            {
                // Fresh fault-free arena: only a lack of pages makes it fail, and then nothing changed.
                Assert.Equal(DmaSgError.OutOfMemory, ex.Error);
                Assert.True(pageCount > free);
                Assert.Equal(before, arena.Snapshot());
                return;
            }

            Assert.Equal(pageCount, pages.Length);
            Assert.Equal(free - pageCount, arena.FreePageCount); // never over-allocates
            foreach (int p in pages)
            {
                HandOut(p, 1);
                Held.Add((p, 0, true));
            }
        }

        /// <summary>Every page handed out reads zero; then the test dirties it so a reuse must clear it again.</summary>
        private void HandOut(int first, int count)
        {
            for (int p = first; p < first + count; p++)
            {
                Assert.True(TestArenas.IsZero(arena, p), $"page {p} was handed out dirty");
                TestArenas.Scribble(arena, p, ++_scribbles);
            }
        }
    }
}
