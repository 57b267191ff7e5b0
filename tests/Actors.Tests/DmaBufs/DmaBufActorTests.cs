using System.Runtime.InteropServices;
using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Tests.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests.DmaBufs;

/// <summary>vb2_dma_sg_dmabuf_ops through the dmabuf and attachment actors.</summary>
public class DmaBufActorTests(ITestOutputHelper output) : DmaSgTestKit(output)
{
    [Fact]
    public async Task Export_takes_a_buffer_ref_that_the_dmabuf_release_drops()
    {
        IActorRef holder = NewHolder();
        (BufferCreated b, Exported e) = await AllocExported(holder, 3L * PageSize);
        Assert.Equal(b.Size, e.Size);
        Assert.Equal(2, (await Ask<NumUsers>(b.Buffer, GetNumUsers.Instance)).Count);

        // The buffer's own ref goes; the dmabuf keeps the pages alive.
        Assert.Equal(1, (await Ask<RefDropped>(b.Buffer, new Put(holder))).RefCount);
        Assert.Equal(3, (await Stats()).AllocatedPages);

        Assert.Equal(0, (await Ask<RefDropped>(e.DmaBuf, new Put(holder))).RefCount);
        await AssertNothingLeaked();
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public async Task Map_is_cached_per_direction_and_remaps_when_it_changes(string device)
    {
        IActorRef holder = NewHolder();
        (BufferCreated b, Exported e) = await AllocExported(holder, 5L * PageSize);
        AttachmentCreated a = await Ask<AttachmentCreated>(e.DmaBuf, new Attach(device, b.Size, holder));

        AttachmentMapped m1 = await Ask<AttachmentMapped>(a.Attachment, new MapAttachment(DmaDirection.ToDevice));
        AttachmentMapped m2 = await Ask<AttachmentMapped>(a.Attachment, new MapAttachment(DmaDirection.ToDevice));
        Assert.False(m1.Cached);
        Assert.True(m2.Cached);
        Assert.Equal(m1.Table.Segments, m2.Table.Segments);
        Assert.Equal(b.Size, m1.Table.Length);

        // Unmap keeps the cache (the seed's unmap_dma_buf does nothing).
        await Ask<Done>(a.Attachment, new UnmapAttachment(DmaDirection.ToDevice));
        AttachmentInfo info = await Ask<AttachmentInfo>(a.Attachment, Inspect.Instance);
        Assert.True(info.IsMapped);
        Assert.Equal(DmaDirection.ToDevice, info.Direction);

        AttachmentMapped m3 = await Ask<AttachmentMapped>(a.Attachment, new MapAttachment(DmaDirection.FromDevice));
        Assert.False(m3.Cached);
        Assert.Equal(DmaDirection.FromDevice, m3.Direction);
        Assert.Equal(2, (await Stats()).DeviceMappings);

        await Ask<Done>(a.Attachment, Detach.Instance);
        await AwaitAssertAsync(async () => Assert.Equal(1, (await Stats()).DeviceMappings));
        await Ask<RefDropped>(e.DmaBuf, new Put(holder));
        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Bad_map_requests_change_nothing()
    {
        IActorRef holder = NewHolder();
        (BufferCreated b, Exported e) = await AllocExported(holder, PageSize);
        AttachmentCreated a = await Ask<AttachmentCreated>(e.DmaBuf, new Attach(Iommu, 0, holder));
        await Ask<AttachmentMapped>(a.Attachment, new MapAttachment(DmaDirection.Bidirectional));

        await AskFails(a.Attachment, new MapAttachment(DmaDirection.None), DmaSgError.InvalidArgument);
        await AskFails(a.Attachment, new MapAttachment((DmaDirection)9), DmaSgError.InvalidArgument);

        Assert.Equal(DmaDirection.Bidirectional, (await Ask<AttachmentInfo>(a.Attachment, Inspect.Instance)).Direction);
        await Ask<Done>(a.Attachment, Detach.Instance);
        await Ask<RefDropped>(e.DmaBuf, new Put(holder));
        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_map_the_device_refuses_is_io_and_leaves_the_attachment_unmapped()
    {
        IActorRef holder = NewHolder();
        (BufferCreated b, Exported e) = await AllocExported(holder, 2L * PageSize);
        AttachmentCreated a = await Ask<AttachmentCreated>(e.DmaBuf, new Attach(Iommu, 0, holder));
        await Ask<AttachmentMapped>(a.Attachment, new MapAttachment(DmaDirection.ToDevice));

        await Ask<DeviceRemoved>(Allocator, new RemoveDevice(Iommu));
        DmaSgFailure f = await AskFails(a.Attachment, new MapAttachment(DmaDirection.FromDevice), DmaSgError.Io);
        Assert.Contains("DeviceGone", f.Message, StringComparison.Ordinal);

        AttachmentInfo info = await Ask<AttachmentInfo>(a.Attachment, Inspect.Instance);
        Assert.Equal(DmaDirection.None, info.Direction);
        Assert.False(info.IsMapped);
        await AskFails(e.DmaBuf, new Attach(Iommu, 0, holder), DmaSgError.DeviceGone);

        await Ask<Done>(a.Attachment, Detach.Instance);
        await Ask<RefDropped>(e.DmaBuf, new Put(holder));
        await Ask<RefDropped>(b.Buffer, new Put(holder));
        Checkers[Iommu].Clear();
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Attaching_with_a_size_larger_than_the_dmabuf_is_a_fault()
    {
        IActorRef holder = NewHolder();
        (BufferCreated b, Exported e) = await AllocExported(holder, 2L * PageSize);

        await AskFails(e.DmaBuf, new Attach(Coherent, b.Size + 1, holder), DmaSgError.Fault);
        await AskFails(e.DmaBuf, new Attach("nope", 0, holder), DmaSgError.InvalidArgument);
        await AskFails(e.DmaBuf, new Attach(Coherent, -1, holder), DmaSgError.InvalidArgument);
        await AskFails(e.DmaBuf, new Attach(Coherent, 0, ActorRefs.Nobody), DmaSgError.InvalidArgument);

        DmaBufInfo info = await Ask<DmaBufInfo>(e.DmaBuf, Inspect.Instance);
        Assert.Empty(info.Attachments);
        Assert.Equal(1, info.RefCount);
        await Ask<RefDropped>(e.DmaBuf, new Put(holder));
        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Attachments_hold_dmabuf_refs_until_they_detach()
    {
        IActorRef holder = NewHolder();
        (BufferCreated b, Exported e) = await AllocExported(holder, PageSize);
        AttachmentCreated a = await Ask<AttachmentCreated>(e.DmaBuf, new Attach(Bounce, 0, holder));
        await Ask<RefDropped>(b.Buffer, new Put(holder));

        // Only the attachment keeps the dmabuf (and so the buffer) alive now.
        Assert.Equal(1, (await Ask<RefDropped>(e.DmaBuf, new Put(holder))).RefCount);
        Assert.Equal(1, (await Stats()).AllocatedPages);

        await Ask<AttachmentMapped>(a.Attachment, new MapAttachment(DmaDirection.Bidirectional));
        await Ask<Done>(a.Attachment, Detach.Instance);
        await AssertNothingLeaked();
        await AskFails(a.Attachment, new MapAttachment(DmaDirection.ToDevice), DmaSgError.UseAfterRelease);
        await AskFails(e.DmaBuf, new Attach(Coherent, 0, holder), DmaSgError.UseAfterRelease);
    }

    [Fact]
    public async Task Dmabuf_get_and_put_are_per_holder()
    {
        IActorRef a = NewHolder();
        IActorRef c = NewHolder();
        (BufferCreated b, Exported e) = await AllocExported(a, PageSize);

        Assert.Equal(2, (await Ask<RefTaken>(e.DmaBuf, new AddRef(c))).RefCount);
        await AskFails(e.DmaBuf, new Put(NewHolder()), DmaSgError.InvalidArgument);
        DmaBufInfo info = await Ask<DmaBufInfo>(e.DmaBuf, Inspect.Instance);
        Assert.Equal(info.RefCount, info.Holders.Sum(h => h.Refs) + info.Attachments.Count);

        Assert.Equal(1, (await Ask<RefDropped>(e.DmaBuf, new Put(a))).RefCount);
        await Ask<RefDropped>(b.Buffer, new Put(a));
        Assert.Equal(0, (await Ask<RefDropped>(e.DmaBuf, new Put(c))).RefCount);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Vmap_kmap_and_mmap_go_to_the_buffer()
    {
        IActorRef holder = NewHolder();
        (BufferCreated b, Exported e) = await AllocExported(holder, 3L * PageSize);
        byte[] data = Patterns.Bytes((int)b.Size, 7);
        await Ask<BytesWritten>(b.Buffer, new WriteBytes(0, data));

        Vaddr v = await Ask<Vaddr>(e.DmaBuf, GetVaddr.Instance);
        Assert.Equal((await Ask<Vaddr>(b.Buffer, GetVaddr.Instance)).Address, v.Address);
        Kmapped k = await Ask<Kmapped>(e.DmaBuf, new Kmap(1));
        Assert.Equal(v.Address + PageSize, k.Address);
        await AskFails(e.DmaBuf, new Kmap(3), DmaSgError.Fault);

        Mmapped m = await Ask<Mmapped>(e.DmaBuf, new Mmap(b.Size, holder));
        Assert.Equal(b.Buffer, m.Buffer);
        var seen = new byte[data.Length];
        Marshal.Copy(m.Address, seen, 0, seen.Length);
        Assert.Equal(data, seen);

        // The mapping is a buffer ref: it outlives both the dmabuf and the buffer's own ref.
        await Ask<RefDropped>(e.DmaBuf, new Put(holder));
        await Ask<RefDropped>(b.Buffer, new Put(holder));
        Assert.Equal(3, (await Stats()).AllocatedPages);
        await Ask<RefDropped>(m.Buffer, new Munmap(m.MappingId, holder));
        await AssertNothingLeaked();
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public async Task An_importing_device_reads_what_the_exporter_wrote(string device)
    {
        IActorRef holder = NewHolder();
        (BufferCreated b, Exported e) = await AllocExported(holder, 9L * PageSize, Bounce, DmaDirection.FromDevice);
        byte[] frame = Patterns.Bytes((int)b.Size, 8);
        await Ask<BytesWritten>(b.Buffer, new DmaWrite(0, frame));
        await Ask<Done>(b.Buffer, Finish.Instance);

        AttachmentCreated a = await Ask<AttachmentCreated>(e.DmaBuf, new Attach(device, b.Size, holder));
        AttachmentMapped m = await Ask<AttachmentMapped>(a.Attachment, new MapAttachment(DmaDirection.ToDevice));

        // The encoder reads through its own mapping of the same pages.
        IDmaDevice encoder = Checkers[device];
        var seen = new byte[frame.Length];
        long at = 0;
        foreach (DmaSegment seg in m.Table.Segments)
        {
            encoder.Read(seg.Address, seen.AsSpan((int)at, (int)seg.Length));
            at += seg.Length;
        }

        Assert.Equal(frame, seen);
        await Ask<Done>(a.Attachment, Detach.Instance);
        await Ask<RefDropped>(e.DmaBuf, new Put(holder));
        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }
}
