using System.Runtime.InteropServices;
using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Tests.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests.Buffers;

/// <summary>Every vb2_dma_sg memop through the buffer actor, against the device models behind the checker.</summary>
public class BufferActorTests(ITestOutputHelper output) : DmaSgTestKit(output)
{
    [Theory]
    [MemberData(nameof(Devices))]
    public async Task Cpu_bytes_reach_the_device_after_prepare(string device)
    {
        IActorRef holder = NewHolder();
        BufferCreated b = await Alloc(holder, 5L * PageSize, device, DmaDirection.ToDevice);
        byte[] data = Patterns.Bytes((int)b.Size, 1);

        await Ask<BytesWritten>(b.Buffer, new WriteBytes(0, data));
        await Ask<Done>(b.Buffer, Prepare.Instance);

        BytesRead seen = await Ask<BytesRead>(b.Buffer, new DmaRead(0, data.Length));
        Assert.Equal(data, seen.Data);
        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public async Task Device_bytes_reach_the_cpu_after_finish(string device)
    {
        IActorRef holder = NewHolder();
        BufferCreated b = await Alloc(holder, 3L * PageSize, device, DmaDirection.FromDevice);
        byte[] frame = Patterns.Bytes((int)b.Size - 10, 2);

        await Ask<BytesWritten>(b.Buffer, new DmaWrite(5, frame));
        byte[] before = (await Ask<BytesRead>(b.Buffer, new ReadBytes(5, frame.Length))).Data;
        if (device == Bounce)
        {
            // swiotlb: without finish() the CPU still sees its own (zero) pages.
            Assert.Equal(new byte[frame.Length], before);
        }
        else
        {
            Assert.Equal(frame, before);
        }

        await Ask<Done>(b.Buffer, Finish.Instance);
        Assert.Equal(frame, (await Ask<BytesRead>(b.Buffer, new ReadBytes(5, frame.Length))).Data);
        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task The_checker_refuses_a_device_write_into_to_device_memory()
    {
        IActorRef holder = NewHolder();
        BufferCreated b = await Alloc(holder, PageSize, Iommu, DmaDirection.ToDevice);

        DmaSgFailure f = await AskFails(b.Buffer, new DmaWrite(0, [1, 2, 3]), DmaSgError.DmaApiViolation);

        Assert.Equal(DmaApiViolationKind.AccessAgainstDirection, f.Violation);
        Checkers[Iommu].Clear();
        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public async Task Vaddr_is_contiguous_cached_and_shows_the_buffer_bytes(string device)
    {
        IActorRef holder = NewHolder();
        BufferCreated b = await Alloc(holder, 6L * PageSize, device);
        byte[] data = Patterns.Bytes((int)b.Size, 3);
        await Ask<BytesWritten>(b.Buffer, new WriteBytes(0, data));

        Vaddr v1 = await Ask<Vaddr>(b.Buffer, GetVaddr.Instance);
        Vaddr v2 = await Ask<Vaddr>(b.Buffer, GetVaddr.Instance);

        Assert.Equal(v1.Address, v2.Address);
        Assert.Equal(b.Size, v1.Size);
        var seen = new byte[data.Length];
        Marshal.Copy(v1.Address, seen, 0, seen.Length);
        Assert.Equal(data, seen);
        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Kmap_is_bounds_checked_and_works_without_vaddr()
    {
        IActorRef holder = NewHolder();
        BufferCreated b = await Alloc(holder, 3L * PageSize);
        byte[] data = Patterns.Bytes(PageSize, 4);
        await Ask<BytesWritten>(b.Buffer, new WriteBytes(2L * PageSize, data));

        Kmapped k = await Ask<Kmapped>(b.Buffer, new Kmap(2));
        var seen = new byte[PageSize];
        Marshal.Copy(k.Address, seen, 0, seen.Length);
        Assert.Equal(data, seen);

        await AskFails(b.Buffer, new Kmap(3), DmaSgError.Fault);
        await AskFails(b.Buffer, new Kmap(-1), DmaSgError.Fault);
        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Num_users_is_the_sum_over_holders_and_mappings()
    {
        IActorRef a = NewHolder();
        IActorRef c = NewHolder();
        BufferCreated b = await Alloc(a, 2L * PageSize);

        Assert.Equal(2, (await Ask<RefTaken>(b.Buffer, new AddRef(c))).RefCount);
        Assert.Equal(3, (await Ask<RefTaken>(b.Buffer, new AddRef(c))).RefCount);
        Mmapped m = await Ask<Mmapped>(b.Buffer, new Mmap(PageSize, a));
        Assert.Equal(4, (await Ask<NumUsers>(b.Buffer, GetNumUsers.Instance)).Count);

        BufferInfo info = await Ask<BufferInfo>(b.Buffer, Inspect.Instance);
        Assert.Equal(info.NumUsers, info.Holders.Sum(h => h.Refs) + info.Mmaps.Count);
        Assert.Contains(info.Holders, h => h.Holder.Equals(c) && h.Refs == 2);

        Assert.Equal(3, (await Ask<RefDropped>(b.Buffer, new Munmap(m.MappingId, a))).RefCount);
        Assert.Equal(2, (await Ask<RefDropped>(b.Buffer, new Put(c))).RefCount);
        Assert.Equal(1, (await Ask<RefDropped>(b.Buffer, new Put(a))).RefCount);
        Assert.Equal(0, (await Ask<RefDropped>(b.Buffer, new Put(c))).RefCount);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task A_put_by_a_holder_without_a_ref_changes_nothing()
    {
        IActorRef holder = NewHolder();
        BufferCreated b = await Alloc(holder, PageSize);

        await AskFails(b.Buffer, new Put(NewHolder()), DmaSgError.InvalidArgument);
        await AskFails(b.Buffer, new Put(null!), DmaSgError.InvalidArgument);
        await AskFails(b.Buffer, new AddRef(ActorRefs.Nobody), DmaSgError.InvalidArgument);
        await AskFails(b.Buffer, new Munmap(12345, holder), DmaSgError.InvalidArgument);
        await AskFails(b.Buffer, new PutUserptr(holder), DmaSgError.InvalidArgument);

        Assert.Equal(1, (await Ask<NumUsers>(b.Buffer, GetNumUsers.Instance)).Count);
        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Mmap_shares_the_pages_and_holds_a_ref_until_munmap()
    {
        IActorRef holder = NewHolder();
        BufferCreated b = await Alloc(holder, 4L * PageSize);
        Mmapped m = await Ask<Mmapped>(b.Buffer, new Mmap((2L * PageSize) + 1, holder));
        Assert.Equal(3L * PageSize, m.MappedLength);

        byte[] data = Patterns.Bytes(100, 5);
        Marshal.Copy(data, 0, m.Address + PageSize, data.Length);
        Assert.Equal(data, (await Ask<BytesRead>(b.Buffer, new ReadBytes(PageSize, data.Length))).Data);

        // The buffer's own ref goes, the mapping keeps the pages.
        Assert.Equal(1, (await Ask<RefDropped>(b.Buffer, new Put(holder))).RefCount);
        Assert.Equal(data, (await Ask<BytesRead>(b.Buffer, new ReadBytes(PageSize, data.Length))).Data);

        await AskFails(b.Buffer, new Mmap(5L * PageSize, holder), DmaSgError.InvalidArgument);
        await AskFails(b.Buffer, new Mmap(0, holder), DmaSgError.InvalidArgument);
        await AskFails(b.Buffer, new Munmap(m.MappingId, NewHolder()), DmaSgError.InvalidArgument);

        Assert.Equal(0, (await Ask<RefDropped>(b.Buffer, new Munmap(m.MappingId, holder))).RefCount);
        await AssertNothingLeaked();
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public async Task Cookie_is_the_mapped_sg_table(string device)
    {
        IActorRef holder = NewHolder();
        BufferCreated b = await Alloc(holder, 11L * PageSize, device);

        SgTableInfo t = (await Ask<Cookie>(b.Buffer, GetCookie.Instance)).Table;

        Assert.True(t.IsMapped);
        Assert.Equal(b.OrigNents, t.OrigNents);
        Assert.Equal(b.Size, t.Length);
        Assert.Equal(b.Size, t.Segments.Sum(s => s.Length));
        Assert.Equal(b.Size, t.Entries.Sum(e => e.Length));
        if (device == Iommu)
        {
            Assert.Equal(1, t.Nents);
        }

        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Byte_access_outside_the_buffer_is_a_fault()
    {
        IActorRef holder = NewHolder();
        BufferCreated b = await Alloc(holder, PageSize);

        await AskFails(b.Buffer, new ReadBytes(PageSize - 1, 2), DmaSgError.Fault);
        await AskFails(b.Buffer, new ReadBytes(-1, 1), DmaSgError.Fault);
        await AskFails(b.Buffer, new ReadBytes(0, -1), DmaSgError.InvalidArgument);
        await AskFails(b.Buffer, new WriteBytes(PageSize, [1]), DmaSgError.Fault);
        await AskFails(b.Buffer, new WriteBytes(0, null!), DmaSgError.InvalidArgument);
        await AskFails(b.Buffer, new DmaWrite(long.MaxValue, [1]), DmaSgError.Fault);
        await AskFails(b.Buffer, new DmaRead(1, PageSize), DmaSgError.Fault);

        Assert.Equal(1, (await Ask<NumUsers>(b.Buffer, GetNumUsers.Instance)).Count);
        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Messages_to_a_freed_buffer_get_use_after_release()
    {
        IActorRef holder = NewHolder();
        BufferCreated b = await Alloc(holder, PageSize);
        await Ask<RefDropped>(b.Buffer, new Put(holder));

        await AskFails(b.Buffer, new Put(holder), DmaSgError.UseAfterRelease);
        await AskFails(b.Buffer, GetVaddr.Instance, DmaSgError.UseAfterRelease);
        await AskFails(b.Buffer, Prepare.Instance, DmaSgError.UseAfterRelease);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Requests_queued_behind_the_last_put_get_use_after_release()
    {
        IActorRef holder = NewHolder();
        BufferCreated b = await Alloc(holder, PageSize);

        Task<IDmaSgReply> put = Actors.Support.DmaSgAsk.Request(Sys, b.Buffer, new Put(holder), Timeout);
        Task<IDmaSgReply>[] after = Enumerable.Range(0, 20)
            .Select(_ => Actors.Support.DmaSgAsk.Request(Sys, b.Buffer, GetNumUsers.Instance, Timeout)).ToArray();

        Assert.IsType<RefDropped>(await put);
        foreach (IDmaSgReply reply in await Task.WhenAll(after))
        {
            // Each one either ran before the put (it was sent from another ask actor) or got UseAfterRelease.
            Assert.True(reply is NumUsers || reply is DmaSgFailure { Error: DmaSgError.UseAfterRelease }, reply.ToString());
        }

        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Userptr_buffers_support_the_memops_and_report_dirty_pages()
    {
        IActorRef holder = NewHolder();
        nint mem = AlignedAlloc(4 * PageSize);
        try
        {
            BufferCreated b = await Ask<BufferCreated>(Allocator,
                new GetUserptr(new UserMemory.Native(mem + 8, (2L * PageSize) + 16), DmaDirection.Bidirectional, Bounce, holder));
            Assert.Equal(3, b.NumPages);
            byte[] frame = Patterns.Bytes(300, 6);

            await Ask<BytesWritten>(b.Buffer, new DmaWrite(PageSize - 100, frame));
            await Ask<Done>(b.Buffer, Finish.Instance);
            var seen = new byte[frame.Length];
            Marshal.Copy(mem + 8 + PageSize - 100, seen, 0, seen.Length);
            Assert.Equal(frame, seen);

            Assert.Equal(mem + 8, (await Ask<Vaddr>(b.Buffer, GetVaddr.Instance)).Address);
            await AskFails(b.Buffer, new Mmap(PageSize, holder), DmaSgError.InvalidArgument);
            await AskFails(b.Buffer, new ExportDmaBuf(holder), DmaSgError.InvalidArgument);

            UserptrReleased released = await Ask<UserptrReleased>(b.Buffer, new PutUserptr(holder));
            Assert.Equal(3, released.DirtyPages.Count);
            await AssertNothingLeaked();
        }
        finally
        {
            AlignedFree(mem);
        }
    }

    [Fact]
    public async Task The_holder_of_the_first_ref_is_the_allocating_one()
    {
        IActorRef holder = NewHolder();
        BufferCreated b = await Alloc(holder, PageSize);

        BufferInfo info = await Ask<BufferInfo>(b.Buffer, Inspect.Instance);

        Assert.Equal([new HolderRefs(holder, 1)], info.Holders);
        Assert.Equal(b.Id, info.Id);
        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Unknown_requests_are_answered_not_dropped()
    {
        IActorRef holder = NewHolder();
        BufferCreated b = await Alloc(holder, PageSize);

        await AskFails(b.Buffer, Pin.Instance, DmaSgError.InvalidArgument);
        await AskFails(b.Buffer, new MapAttachment(DmaDirection.ToDevice), DmaSgError.InvalidArgument);

        await Ask<RefDropped>(b.Buffer, new Put(holder));
        await AssertNothingLeaked();
    }

    private static unsafe nint AlignedAlloc(int bytes) => (nint)NativeMemory.AlignedAlloc((nuint)bytes, (nuint)Environment.SystemPageSize);

    private static unsafe void AlignedFree(nint p) => NativeMemory.AlignedFree((void*)p);
}
