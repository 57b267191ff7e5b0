using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Tests.Support;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests;

/// <summary>A client that dies at any point leaks nothing: DeathWatch drops every ref it held.</summary>
public class HolderDeathTests(ITestOutputHelper output) : DmaSgTestKit(output)
{
    public enum Stage
    {
        BufferOnly,
        Exported,
        Attached,
        Mapped,
        Pinned,
        Mmapped,
        Everything,
    }

    public static TheoryData<Stage, string> Stages()
    {
        var data = new TheoryData<Stage, string>();
        foreach (Stage stage in Enum.GetValues<Stage>())
        {
            foreach (string device in new[] { Coherent, Iommu, Bounce })
            {
                data.Add(stage, device);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Stages))]
    public async Task A_dead_holder_leaves_no_pages_mappings_or_actors(Stage stage, string device)
    {
        IActorRef holder = NewHolder();
        BufferCreated b = await Alloc(holder, 5L * PageSize, device);
        if (stage is Stage.Mmapped or Stage.Everything)
        {
            await Ask<Mmapped>(b.Buffer, new Mmap(2L * PageSize, holder));
        }

        if (stage != Stage.BufferOnly && stage != Stage.Mmapped)
        {
            Exported e = await Ask<Exported>(b.Buffer, new ExportDmaBuf(holder));
            if (stage is Stage.Attached or Stage.Mapped or Stage.Everything)
            {
                AttachmentCreated a = await Ask<AttachmentCreated>(e.DmaBuf, new Attach(device, 0, holder));
                if (stage is Stage.Mapped or Stage.Everything)
                {
                    await Ask<AttachmentMapped>(a.Attachment, new MapAttachment(DmaDirection.FromDevice));
                }
            }

            if (stage is Stage.Pinned or Stage.Everything)
            {
                Imported imp = await Ask<Imported>(Allocator, new AttachDmaBuf(e.DmaBuf, b.Size, DmaDirection.ToDevice, device, holder));
                await Ask<Pinned>(imp.Importer, Pin.Instance);
                await Ask<Vaddr>(imp.Importer, GetVaddr.Instance);
            }
        }

        Assert.NotEqual(0, (await Stats()).AllocatedPages);
        await KillHolder(holder);

        await AssertNothingLeaked();
        DmaSgInspection all = await InspectAll();
        Assert.Empty(all.Buffers);
        Assert.Empty(all.Importers);
    }

    [Fact]
    public async Task One_dead_holder_does_not_touch_the_refs_of_another()
    {
        IActorRef dying = NewHolder();
        IActorRef living = NewHolder();
        BufferCreated b = await Alloc(living, 3L * PageSize);
        await Ask<RefTaken>(b.Buffer, new AddRef(dying));
        await Ask<Mmapped>(b.Buffer, new Mmap(PageSize, dying));
        Exported e = await Ask<Exported>(b.Buffer, new ExportDmaBuf(living));
        await Ask<RefTaken>(e.DmaBuf, new AddRef(dying));
        await Ask<AttachmentCreated>(e.DmaBuf, new Attach(Iommu, 0, dying));

        await KillHolder(dying);

        await AwaitAssertAsync(async () =>
        {
            DmaSgInspection all = await InspectAll();
            BufferInfo info = Assert.Single(all.Buffers);
            Assert.Equal(2, info.NumUsers);
            Assert.Empty(info.Mmaps);
            Assert.DoesNotContain(info.Holders, h => h.Holder.Equals(dying));
            DmaBufInfo d = Assert.Single(info.DmaBufs);
            Assert.Equal([new HolderRefs(living, 1)], d.Holders);
            Assert.Empty(d.Attachments);
        });

        await Ask<RefDropped>(e.DmaBuf, new Put(living));
        await Ask<RefDropped>(b.Buffer, new Put(living));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_holder_that_was_already_dead_loses_its_ref_at_once()
    {
        IActorRef holder = NewHolder();
        IActorRef ghost = NewHolder();
        await KillHolder(ghost);
        BufferCreated b = await Alloc(holder, PageSize);

        // Watching a dead actor still delivers Terminated: the ghost's ref goes straight away.
        await Ask<RefTaken>(b.Buffer, new AddRef(ghost));
        await AwaitAssertAsync(async () => Assert.Equal(1, (await Ask<NumUsers>(b.Buffer, GetNumUsers.Instance)).Count));

        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }
}
