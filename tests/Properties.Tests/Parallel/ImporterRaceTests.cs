using DmaSg.Memory.Dma;
using DmaSg.Properties.Tests.Model;
using DmaSg.Properties.Tests.Support;
using DmaSg.Properties.Tests.Sut;

namespace DmaSg.Properties.Tests.Parallel;

/// <summary>Races the parallel property found, kept as fixed cases run many times.</summary>
public class ImporterRaceTests
{
    /// <summary>
    /// A pinned importer's Detach while its attachment is being stopped: the importer's unpin step finds the attachment
    /// dead before its own DeathWatch notice arrives. It must still answer Done and stop (it answered NotAttached and
    /// stayed alive, so a facade handle's dispose threw and the importer lived on until its holder died).
    /// </summary>
    [Fact]
    public async Task A_pinned_importer_detached_while_its_attachment_dies_still_detaches()
    {
        var spec = new SetupSpec(Pages: 16, MaxOrder: 2, Holders: 1, ReleaseByDeath: false);
        var c = new ParallelCase(
            spec,
            [
                new AllocOp(10, 1, 3 * 4096, DmaDirection.Bidirectional, World.Coherent),
                new ExportOp(11, 1, 10),
                new ImportOp(12, 13, 1, 11, 3 * 4096, DmaDirection.FromDevice, World.Iommu),
                new PinOp(12),
            ],
            [
                [new KillOp(Target.Attachment, 13, StopMode.Stop)],
                [new ImpDetachOp(12)],
            ]);
        for (int run = 0; run < 20; run++)
        {
            string? failure = await c.Run();
            Assert.True(failure is null, $"run {run + 1}: {failure}");
        }
    }
}
