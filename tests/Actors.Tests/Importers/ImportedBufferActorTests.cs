using System.Runtime.InteropServices;
using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Tests.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests.Importers;

/// <summary>attach_dmabuf, map_dmabuf, unmap_dmabuf, detach_dmabuf: the importer's state machine.</summary>
public class ImportedBufferActorTests(ITestOutputHelper output) : DmaSgTestKit(output)
{
    private Task<Imported> Import(IActorRef dmabuf, long size, string device, DmaDirection dir, IActorRef holder) =>
        Ask<Imported>(Allocator, new AttachDmaBuf(dmabuf, size, dir, device, holder));

    private async Task Cleanup(IActorRef holder, BufferCreated b, Exported e)
    {
        await Ask<RefDropped>(e.DmaBuf, new Put(holder));
        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public async Task Attach_pin_read_unpin_detach(string device)
    {
        IActorRef holder = NewHolder();
        (BufferCreated b, Exported e) = await AllocExported(holder, 6L * PageSize, Bounce, DmaDirection.FromDevice);
        byte[] frame = Patterns.Bytes((int)b.Size, 9);
        await Ask<BytesWritten>(b.Buffer, new DmaWrite(0, frame));
        await Ask<Done>(b.Buffer, Finish.Instance);

        Imported imp = await Import(e.DmaBuf, b.Size, device, DmaDirection.ToDevice, holder);
        Assert.Equal(b.Size, imp.DmaBufSize);
        Assert.Equal(ImporterState.Attached, (await Ask<ImporterInfo>(imp.Importer, Inspect.Instance)).State);

        Pinned p = await Ask<Pinned>(imp.Importer, Pin.Instance);
        Assert.False(p.AlreadyPinned);
        Assert.True(p.Table.IsMapped);
        Assert.Equal(frame, (await Ask<BytesRead>(imp.Importer, new DmaRead(0, frame.Length))).Data);
        Assert.Equal(p.Table, (await Ask<Cookie>(imp.Importer, GetCookie.Instance)).Table);

        await Ask<Done>(imp.Importer, Unpin.Instance);
        await Ask<Done>(imp.Importer, Detach.Instance);
        await AskFails(imp.Importer, Pin.Instance, DmaSgError.UseAfterRelease);
        await Cleanup(holder, b, e);
    }

    [Fact]
    public async Task Pinning_twice_warns_and_succeeds()
    {
        IActorRef holder = NewHolder();
        (BufferCreated b, Exported e) = await AllocExported(holder, PageSize);
        Imported imp = await Import(e.DmaBuf, PageSize, Iommu, DmaDirection.Bidirectional, holder);

        Pinned first = await Ask<Pinned>(imp.Importer, Pin.Instance);
        Pinned second = await Ask<Pinned>(imp.Importer, Pin.Instance);

        Assert.True(second.AlreadyPinned);
        Assert.Equal(first.Table, second.Table);
        Assert.Equal(2, (await Stats()).DeviceMappings);
        await Ask<Done>(imp.Importer, Unpin.Instance);
        await Ask<Done>(imp.Importer, Detach.Instance);
        await Cleanup(holder, b, e);
    }

    [Fact]
    public async Task Unpinning_when_not_pinned_answers_not_pinned()
    {
        IActorRef holder = NewHolder();
        (BufferCreated b, Exported e) = await AllocExported(holder, PageSize);
        Imported imp = await Import(e.DmaBuf, PageSize, Coherent, DmaDirection.ToDevice, holder);

        await AskFails(imp.Importer, Unpin.Instance, DmaSgError.NotPinned);
        await AskFails(imp.Importer, GetCookie.Instance, DmaSgError.NotPinned);
        await AskFails(imp.Importer, new DmaRead(0, 1), DmaSgError.NotPinned);
        await Ask<Pinned>(imp.Importer, Pin.Instance);
        await Ask<Done>(imp.Importer, Unpin.Instance);
        await AskFails(imp.Importer, Unpin.Instance, DmaSgError.NotPinned);

        await Ask<Done>(imp.Importer, Detach.Instance);
        await Cleanup(holder, b, e);
    }

    [Fact]
    public async Task Detaching_while_pinned_unpins_first()
    {
        IActorRef holder = NewHolder();
        (BufferCreated b, Exported e) = await AllocExported(holder, 2L * PageSize);
        Imported imp = await Import(e.DmaBuf, PageSize, Bounce, DmaDirection.FromDevice, holder);
        await Ask<Pinned>(imp.Importer, Pin.Instance);

        await Ask<Done>(imp.Importer, Detach.Instance);

        await AwaitAssertAsync(async () => Assert.Equal(1, (await Stats()).DeviceMappings));
        await Cleanup(holder, b, e);
    }

    [Fact]
    public async Task Prepare_and_finish_are_no_ops_and_vaddr_is_the_dmabuf_vmap()
    {
        IActorRef holder = NewHolder();
        (BufferCreated b, Exported e) = await AllocExported(holder, 2L * PageSize);
        byte[] data = Patterns.Bytes((int)b.Size, 10);
        await Ask<BytesWritten>(b.Buffer, new WriteBytes(0, data));
        Imported imp = await Import(e.DmaBuf, PageSize, Coherent, DmaDirection.ToDevice, holder);

        await Ask<Done>(imp.Importer, Prepare.Instance);
        await Ask<Done>(imp.Importer, Finish.Instance);
        Vaddr v = await Ask<Vaddr>(imp.Importer, GetVaddr.Instance);
        Assert.Equal(PageSize, v.Size);
        Assert.Equal((await Ask<Vaddr>(b.Buffer, GetVaddr.Instance)).Address, v.Address);
        var seen = new byte[PageSize];
        Marshal.Copy(v.Address, seen, 0, seen.Length);
        Assert.Equal(data.AsSpan(0, PageSize).ToArray(), seen);

        await Ask<Done>(imp.Importer, Detach.Instance);
        await Cleanup(holder, b, e);
    }

    [Fact]
    public async Task Attaching_more_than_the_dmabuf_holds_is_a_fault()
    {
        IActorRef holder = NewHolder();
        (BufferCreated b, Exported e) = await AllocExported(holder, 2L * PageSize);

        await AskFails(Allocator, new AttachDmaBuf(e.DmaBuf, b.Size + 1, DmaDirection.ToDevice, Coherent, holder), DmaSgError.Fault);
        await AskFails(Allocator, new AttachDmaBuf(e.DmaBuf, 0, DmaDirection.ToDevice, Coherent, holder), DmaSgError.InvalidArgument);
        await AskFails(Allocator, new AttachDmaBuf(e.DmaBuf, 1, DmaDirection.None, Coherent, holder), DmaSgError.InvalidArgument);
        await AskFails(Allocator, new AttachDmaBuf(e.DmaBuf, 1, DmaDirection.ToDevice, "nope", holder), DmaSgError.InvalidArgument);
        await AskFails(Allocator, new AttachDmaBuf(ActorRefs.Nobody, 1, DmaDirection.ToDevice, Coherent, holder), DmaSgError.InvalidArgument);

        await AwaitAssertAsync(async () => Assert.Equal(0, (await Stats()).LiveImporters));
        await Cleanup(holder, b, e);
    }

    [Fact]
    public async Task Importing_a_released_dmabuf_is_use_after_release()
    {
        IActorRef holder = NewHolder();
        (BufferCreated b, Exported e) = await AllocExported(holder, PageSize);
        await Ask<RefDropped>(e.DmaBuf, new Put(holder));

        await AskFails(Allocator, new AttachDmaBuf(e.DmaBuf, 1, DmaDirection.ToDevice, Coherent, holder), DmaSgError.UseAfterRelease);

        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public async Task A_buffer_importing_its_own_dmabuf_does_not_deadlock(string device)
    {
        IActorRef holder = NewHolder();
        (BufferCreated b, Exported e) = await AllocExported(holder, 4L * PageSize, device);

        // Same device, same pages, mapped twice: once by the buffer, once through its own dmabuf.
        Imported imp = await Import(e.DmaBuf, b.Size, device, DmaDirection.Bidirectional, holder);
        Task<IDmaSgReply>[] storm =
        [
            .. Enumerable.Range(0, 10).SelectMany(_ => new[]
            {
                Actors.Support.DmaSgAsk.Request(Sys, imp.Importer, Pin.Instance, Timeout),
                Actors.Support.DmaSgAsk.Request(Sys, imp.Importer, GetVaddr.Instance, Timeout),
                Actors.Support.DmaSgAsk.Request(Sys, b.Buffer, GetVaddr.Instance, Timeout),
                Actors.Support.DmaSgAsk.Request(Sys, e.DmaBuf, GetVaddr.Instance, Timeout),
                Actors.Support.DmaSgAsk.Request(Sys, b.Buffer, Prepare.Instance, Timeout),
                Actors.Support.DmaSgAsk.Request(Sys, imp.Importer, Unpin.Instance, Timeout),
            }),
        ];

        IDmaSgReply[] replies = await Task.WhenAll(storm);
        Assert.All(replies, r => Assert.True(r is Pinned or Vaddr or Done || r is DmaSgFailure { Error: DmaSgError.NotPinned }, r.ToString()));
        await Ask<Done>(imp.Importer, Detach.Instance);
        await Cleanup(holder, b, e);
    }

    [Fact]
    public async Task Exported_frame_travels_from_camera_to_encoder()
    {
        IActorRef camera = NewHolder();
        IActorRef encoder = NewHolder();
        BufferCreated b = await Alloc(camera, 16L * PageSize, Bounce, DmaDirection.FromDevice);
        byte[] frame = Patterns.Bytes((int)b.Size, 11);
        await Ask<Done>(b.Buffer, Prepare.Instance);
        await Ask<BytesWritten>(b.Buffer, new DmaWrite(0, frame));
        await Ask<Done>(b.Buffer, Finish.Instance);
        Exported e = await Ask<Exported>(b.Buffer, new ExportDmaBuf(camera));
        await Ask<RefTaken>(e.DmaBuf, new AddRef(encoder));
        await Ask<RefDropped>(e.DmaBuf, new Put(camera));
        await Ask<RefDropped>(b.Buffer, new Put(camera));

        Imported imp = await Import(e.DmaBuf, b.Size, Iommu, DmaDirection.ToDevice, encoder);
        await Ask<Pinned>(imp.Importer, Pin.Instance);
        Assert.Equal(frame, (await Ask<BytesRead>(imp.Importer, new DmaRead(0, frame.Length))).Data);
        await Ask<Done>(imp.Importer, Unpin.Instance);
        await Ask<Done>(imp.Importer, Detach.Instance);
        await Ask<RefDropped>(e.DmaBuf, new Put(encoder));
        await AssertNothingLeaked();
    }
}
