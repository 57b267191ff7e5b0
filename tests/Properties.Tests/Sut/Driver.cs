using System.Collections.Immutable;
using DmaSg.Actors.Protocol;
using DmaSg.Memory.Dma;
using DmaSg.Properties.Tests.Model;
using DmaSg.Properties.Tests.Support;

namespace DmaSg.Properties.Tests.Sut;

/// <summary>
/// Runs model-checked calls on a <see cref="Sut"/>: the reply must equal the prediction, then the real state must
/// settle to the predicted one. Also the end of every case: release everything, then prove nothing leaked.
/// </summary>
public static class Driver
{
    /// <summary>Replies by kind of call (see PropRunner.Verbose).</summary>
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> OutcomeCounts = new();

    /// <summary>
    /// Performs <paramref name="op"/>, compares its reply with <paramref name="expected"/> and then the state with
    /// <paramref name="settled"/>. Returns the failure, or null.
    /// </summary>
    public static async Task<string?> Step(Sut sut, Op op, Outcome expected, World settled)
    {
        Outcome actual = await op.Execute(sut).ConfigureAwait(false);
        OutcomeCounts.AddOrUpdate($"{op.GetType().Name} {actual.Text.Split('(')[0]}", 1, (_, v) => v + 1);
        sut.Model = settled;
        if (actual != expected)
        {
            sut.Log.Enqueue($"{op.Call,-70} -> {actual}   <-- the model says {expected}");
            return $"{op.Call}: the reply was {actual}, the model says {expected}";
        }

        sut.Log.Enqueue($"{op.Call,-70} -> {actual}");
        string? diff = await sut.SettleTo(settled.View()).ConfigureAwait(false);
        if (diff is not null)
        {
            sut.Log.Enqueue($"    {diff.Replace(Environment.NewLine, Environment.NewLine + "    ", StringComparison.Ordinal)}");
            return $"after {op.Call}: {diff}";
        }

        return null;
    }

    /// <summary>Steps the model and the real system together (the sequential semantics: effects settle in between).</summary>
    public static async Task<(World World, string? Failure)> StepBoth(Sut sut, World w, Op op)
    {
        (World next, Outcome expected) = op.Step(w)[0];
        next = next.Drain();
        return (next, await Step(sut, op, expected, next).ConfigureAwait(false));
    }

    /// <summary>
    /// The end of a case: every ref is given back (by explicit puts, or by killing every holder), then the arena must
    /// have all its pages in the free lists it started with, no device mapping or ref may be left, the checker must
    /// have seen only what the model expected, and once the allocator stops its arena fd and mappings must be gone.
    /// </summary>
    public static async Task<string?> ReleaseAll(Sut sut, World w)
    {
        if (sut.Spec.ReleaseByDeath)
        {
            foreach (HolderM h in w.Holders.Values.Where(h => h.Alive))
            {
                (w, string? failure) = await StepBoth(sut, w, new KillHolderOp(h.Tag, StopMode.PoisonPill)).ConfigureAwait(false);
                if (failure is not null)
                {
                    return failure;
                }
            }
        }
        else
        {
            for (Op? op = NextRelease(w); op is not null; op = NextRelease(w))
            {
                (w, string? failure) = await StepBoth(sut, w, op).ConfigureAwait(false);
                if (failure is not null)
                {
                    return failure;
                }
            }
        }

        var problems = new List<string>();
        IReadOnlyList<string> nothing = Empty(w).View();
        if (!w.View().SequenceEqual(nothing))
        {
            problems.Add($"the model still holds something after the release:{Environment.NewLine}{Sut.Diff(nothing, w.View())}");
        }

        if (await sut.SettleTo(nothing).ConfigureAwait(false) is { } diff)
        {
            problems.Add($"after releasing everything: {diff}");
        }

        var stats = (AllocatorStats)await sut.Ask(sut.Allocator, GetStats.Instance).ConfigureAwait(false);
        sut.Leaks = sut.Leaks with { Pages = stats.AllocatedPages, Mappings = stats.DeviceMappings + stats.LiveMmaps };
        if (!stats.FreeBlocksPerOrder.SequenceEqual(sut.InitialStats.FreeBlocksPerOrder))
        {
            problems.Add($"free blocks per order are [{string.Join(",", stats.FreeBlocksPerOrder)}], the fresh arena had [{string.Join(",", sut.InitialStats.FreeBlocksPerOrder)}]");
        }

        foreach ((string name, _) in World.DeviceModels)
        {
            DmaApiChecker checker = sut.Devices.Checker(name);
            if (checker.Mappings.Count > 0)
            {
                problems.Add($"{name}: the checker still records {checker.Mappings.Count} mappings");
            }

            // The model predicts these two (device accesses against the direction, unplugging a device with live mappings).
            var unexpected = checker.Violations.Where(v => v.Kind is not (DmaApiViolationKind.AccessAgainstDirection or DmaApiViolationKind.PendingOnRemove)).ToArray();
            if (unexpected.Length > 0)
            {
                problems.Add($"{name}: unexpected DMA-API reports: {string.Join("; ", unexpected.Select(v => v.Message))}");
            }
        }

        if (await sut.StopAndCheckResources().ConfigureAwait(false) is { } leak)
        {
            problems.Add(leak);
        }

        return problems.Count == 0 ? null : string.Join(Environment.NewLine, problems);
    }

    /// <summary>The next give-back call a well-behaved user makes: importers, attachments, mappings, dmabufs, buffers.</summary>
    private static Op? NextRelease(World w)
    {
        if (w.Imps.Values.FirstOrDefault(i => i.State != ImpState.Stopped) is { } imp)
        {
            return new ImpDetachOp(imp.Tag);
        }

        if (w.Atts.Values.FirstOrDefault(a => a.Alive && !a.ByImporter) is { } att)
        {
            return new DetachOp(att.Tag);
        }

        if (w.Mmaps.Values.FirstOrDefault(m => m.Live) is { } mmap)
        {
            return new MunmapOp(mmap.Holder, mmap.Tag);
        }

        if (w.DBufs.Values.FirstOrDefault(d => !d.Released && d.Refs.Count > 0) is { } dbuf)
        {
            return new DPutOp(dbuf.Refs.Keys.First(), dbuf.Tag);
        }

        if (w.Bufs.Values.FirstOrDefault(b => !b.Released && b.Refs.Keys.Any(h => h < World.FirstObjectTag)) is { } buf)
        {
            int h = buf.Refs.Keys.First(k => k < World.FirstObjectTag);
            return buf.Userptr ? new PutUserptrOp(h, buf.Tag) : new PutOp(h, buf.Tag);
        }

        return null;
    }

    /// <summary>The same world with nothing live (what a full release must reach).</summary>
    private static World Empty(World w) => World.Initial(w.TotalPages, w.Holders.Count) with
    {
        Devs = w.Devs.ToImmutableSortedDictionary(d => d.Key, d => d.Value with { MapFault = false }, StringComparer.Ordinal),
    };
}
