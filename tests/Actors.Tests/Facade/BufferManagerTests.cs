using System.Runtime.InteropServices;
using Akka.Actor;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Tests.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests.Facade;

public class BufferManagerTests(ITestOutputHelper output) : FacadeTestKit(output)
{
    [Fact]
    public void The_extension_is_one_per_system_and_reads_the_hocon()
    {
        Assert.Same(Dmasg, BufferManager.Get(Sys));
        Assert.Equal(8L << 20, Dmasg.Settings.ArenaSize);
        Assert.Equal(5, Dmasg.Settings.MaxOrder);
        Assert.Equal(["camera", "default", "encoder"], Dmasg.Settings.DeviceSpecs.Select(d => d.Name));
    }

    [Fact]
    public async Task Camera_to_encoder_through_handles()
    {
        byte[] frame = Patterns.Bytes(5 * PageSize, 1);
        await using (BufferHandle buf = await Dmasg.AllocateAsync(frame.Length, DmaDirection.FromDevice, "camera"))
        {
            await buf.PrepareAsync();
            await buf.DmaWriteAsync(0, frame);
            await buf.FinishAsync();
            Assert.Equal(frame, await buf.ReadAsync(0, frame.Length));

            await using DmaBufHandle dmabuf = await buf.ExportAsync();
            await using ImportHandle encoder = await Dmasg.ImportAsync(dmabuf, frame.Length, DmaDirection.ToDevice, "encoder");
            SgTableInfo table = await encoder.PinAsync();
            Assert.Equal(1, table.Nents);
            Assert.Equal(frame, await encoder.DmaReadAsync(0, frame.Length));
            await encoder.UnpinAsync();
        }

        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Attachments_map_and_unmap_through_their_handle()
    {
        await using BufferHandle buf = await Dmasg.AllocateAsync(3L * PageSize);
        await using DmaBufHandle dmabuf = await buf.ExportAsync();
        await using AttachmentHandle a = await dmabuf.AttachAsync("encoder", minSize: buf.Size);

        SgTableInfo t1 = await a.MapAsync(DmaDirection.ToDevice);
        await a.UnmapAsync(DmaDirection.ToDevice);
        SgTableInfo t2 = await a.MapAsync(DmaDirection.ToDevice);

        Assert.Equal(t1.Segments, t2.Segments);
        Assert.Equal(DmaDirection.ToDevice, (await a.InspectAsync()).Direction);
        var e = await Assert.ThrowsAsync<DmaSgException>(() => dmabuf.AttachAsync("encoder", minSize: buf.Size + 1));
        Assert.Equal(DmaSgError.Fault, e.Error);
    }

    [Fact]
    public async Task Dispose_drops_exactly_its_ref_and_twice_is_harmless()
    {
        BufferHandle first = await Dmasg.AllocateAsync(PageSize);
        BufferHandle second = await first.AddRefAsync();
        Assert.Equal(2, await first.NumUsersAsync());

        await second.DisposeAsync();
        await second.DisposeAsync();
        Assert.Equal(1, await first.NumUsersAsync());

        var e = await Assert.ThrowsAsync<DmaSgException>(() => second.GetVaddrAsync());
        Assert.Equal(DmaSgError.UseAfterRelease, e.Error);

        await first.DisposeAsync();
        await first.DisposeAsync();
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Vaddr_mmap_and_chunked_cpu_access()
    {
        byte[] data = Patterns.Bytes((3 * PageSize) + 123, 2);
        await using BufferHandle buf = await Dmasg.AllocateAsync(4L * PageSize);

        // max-chunk is 3000 bytes here: this write and read are split into several messages.
        await buf.WriteAsync(7, data);
        Assert.Equal(data, await buf.ReadAsync(7, data.Length));

        nint vaddr = await buf.GetVaddrAsync();
        var seen = new byte[data.Length];
        Marshal.Copy(vaddr + 7, seen, 0, seen.Length);
        Assert.Equal(data, seen);
        Assert.Equal(vaddr + PageSize, await buf.KmapAsync(1));

        await using (MmapHandle map = await buf.MmapAsync())
        {
            Assert.Equal(data, map.AsSpan().Slice(7, data.Length).ToArray());
            map.AsSpan()[0] = 0xAB;
        }

        Assert.Equal([0xAB], await buf.ReadAsync(0, 1));
        var fault = await Assert.ThrowsAsync<DmaSgException>(() => buf.ReadAsync(buf.Size - 1, 2));
        Assert.Equal(DmaSgError.Fault, fault.Error);
        SgTableInfo cookie = await buf.CookieAsync();
        Assert.Equal(buf.Size, cookie.Length);
    }

    [Fact]
    public async Task Userptr_handles_pin_caller_memory_and_report_dirty_pages()
    {
        var memory = new byte[2 * PageSize];
        BufferHandle buf = await Dmasg.UserptrAsync(memory.AsMemory(), DmaDirection.FromDevice, "camera");
        byte[] frame = Patterns.Bytes(memory.Length, 3);
        await buf.DmaWriteAsync(0, frame);
        await buf.FinishAsync();
        Assert.Equal(frame, memory);

        IReadOnlyList<nint> dirty = await buf.PutUserptrAsync();
        Assert.Equal(buf.NumPages, dirty.Count);
        await buf.DisposeAsync();
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Importer_handles_follow_the_state_machine()
    {
        await using BufferHandle buf = await Dmasg.AllocateAsync(2L * PageSize);
        await using DmaBufHandle dmabuf = await buf.ExportAsync();
        ImportHandle imp = await dmabuf.ImportAsync(DmaDirection.Bidirectional, "encoder");

        var e = await Assert.ThrowsAsync<DmaSgException>(() => imp.UnpinAsync());
        Assert.Equal(DmaSgError.NotPinned, e.Error);
        await imp.PinAsync();
        await imp.PinAsync();
        await imp.PrepareAsync();
        await imp.FinishAsync();
        Assert.Equal(await dmabuf.VmapAsync(), await imp.GetVaddrAsync());
        Assert.Equal(ImporterState.Pinned, (await imp.InspectAsync()).State);

        // Dispose while pinned: the importer unpins, then detaches.
        await imp.DisposeAsync();
        Assert.Empty((await dmabuf.InspectAsync()).Attachments);
    }

    [Fact]
    public async Task Disposing_a_client_releases_everything_it_held()
    {
        DmaSgClient client = Dmasg.CreateClient();
        BufferHandle buf = await client.AllocateAsync(4L * PageSize, DmaDirection.FromDevice, "camera");
        DmaBufHandle dmabuf = await buf.ExportAsync();
        ImportHandle imp = await client.ImportAsync(dmabuf, buf.Size, DmaDirection.ToDevice, "encoder");
        await imp.PinAsync();
        await buf.MmapAsync(PageSize);
        await (await dmabuf.AttachAsync("camera")).MapAsync(DmaDirection.ToDevice);
        Assert.NotEqual(0, (await Dmasg.GetStatsAsync()).AllocatedPages);

        // Nothing disposed: the holder's death alone must clean up.
        await client.DisposeAsync();
        await client.DisposeAsync();

        await AssertNothingLeaked();
        await buf.DisposeAsync();
    }

    [Fact]
    public async Task The_holder_actor_is_what_death_watch_sees()
    {
        DmaSgClient client = Dmasg.CreateClient();
        BufferHandle buf = await client.AllocateAsync(PageSize);
        BufferInfo info = await buf.InspectAsync();
        Assert.Equal([new HolderRefs(client.Holder, 1)], info.Holders);

        client.Holder.Tell(PoisonPill.Instance);

        await AssertNothingLeaked();
        var e = await Assert.ThrowsAsync<DmaSgException>(() => buf.NumUsersAsync());
        Assert.Equal(DmaSgError.UseAfterRelease, e.Error);
    }

    [Fact]
    public async Task Failures_surface_as_typed_exceptions()
    {
        var e = await Assert.ThrowsAsync<DmaSgException>(() => Dmasg.AllocateAsync(0));
        Assert.Equal(DmaSgError.InvalidArgument, e.Error);
        e = await Assert.ThrowsAsync<DmaSgException>(() => Dmasg.AllocateAsync(64L << 20));
        Assert.Equal(DmaSgError.OutOfMemory, e.Error);
        e = await Assert.ThrowsAsync<DmaSgException>(() => Dmasg.AllocateAsync(PageSize, DmaDirection.ToDevice, "nope"));
        Assert.Equal(DmaSgError.InvalidArgument, e.Error);
        await AssertNothingLeaked();
    }

    [Fact]
    public async Task Devices_can_be_registered_and_removed_at_run_time()
    {
        using var checker = new DmaApiChecker(new CoherentDevice("late"));
        Assert.Equal("late", await Dmasg.Client.RegisterDeviceAsync(checker));
        await using (BufferHandle buf = await Dmasg.AllocateAsync(PageSize, DmaDirection.ToDevice, "late"))
        {
            Assert.Equal("late", buf.Device);
        }

        await AssertNothingLeaked();
        DeviceRemovalReport report = await Dmasg.Client.RemoveDeviceAsync("late");
        Assert.True(report.IsClean);
        var e = await Assert.ThrowsAsync<DmaSgException>(() => Dmasg.AllocateAsync(PageSize, DmaDirection.ToDevice, "late"));
        Assert.Equal(DmaSgError.DeviceGone, e.Error);
    }
}
