using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;
using Model = DmaSg.Memory.Tests.Dma.DmaApiCheckerTests.Model;

namespace DmaSg.Memory.Tests.Dma;

/// <summary>A device is shared by buffers owned by actors on different threads: its tables must hold up.</summary>
public sealed class DmaDeviceConcurrencyTests
{
    private const int Threads = 4;
    private const int Rounds = 1000;

    [Theory]
    [InlineData(Model.Iommu)]
    [InlineData(Model.Bounce)]
    [InlineData(Model.Coherent)]
    public void FourThreadsMapAndUnmapTheirOwnTablesOnOneDevice(Model model)
    {
        using var t = new DmaTestArena();
        t.Fragment();

        // Tables are built up front: the arena belongs to one owner, the device is what is shared.
        var tables = new SgTable[Threads][];
        for (int i = 0; i < Threads; i++)
        {
            tables[i] = [t.Table(3, $"buf#{i}a"), t.Table(1, $"buf#{i}b")];
        }

        using var checker = new DmaApiChecker(DmaApiCheckerTests.NewDevice(model, "shared"), DmaApiCheckerMode.Record);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        using var start = new Barrier(Threads);
        var workers = Enumerable.Range(0, Threads).Select(i => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                for (int round = 0; round < Rounds; round++)
                {
                    SgTable sgt = tables[i][round % 2];
                    checker.Get();
                    checker.MapSg(sgt, DmaDirection.Bidirectional);
                    byte[] data = DmaTestArena.Pattern(sgt.Length, (i * 31) + round);
                    DmaTestArena.CpuWrite(sgt, data);
                    checker.SyncSgForDevice(sgt, sgt.OrigNents, DmaDirection.Bidirectional);
                    if (!DmaTestArena.DeviceRead(checker, sgt).AsSpan().SequenceEqual(data))
                    {
                        throw new InvalidOperationException($"thread {i} round {round}: device read another thread's bytes");
                    }

                    checker.UnmapSg(sgt, sgt.OrigNents, DmaDirection.Bidirectional);
                    checker.Put();
                }
            }
            catch (Exception ex)
            {
                failures.Enqueue(ex);
            }
        })).ToArray();

        foreach (Thread w in workers)
        {
            w.Start();
        }

        foreach (Thread w in workers)
        {
            w.Join();
        }

        Assert.Empty(failures);
        Assert.Empty(checker.Violations);
        Assert.Equal(0, checker.LiveMappings);
        Assert.Equal(0, checker.Inner.LiveMappings);
        Assert.Equal(0, checker.RefCount);
        switch (checker.Inner)
        {
            case IommuDevice iommu:
                Assert.Equal(0, iommu.IovaBytesInUse);
                break;
            case BounceDevice bounce:
                Assert.Equal(0, bounce.BounceSlotsInUse);
                break;
        }
    }
}
