using DmaSg.Memory.Buffers;
using DmaSg.Memory.Dma;

namespace DmaSg.Memory.Tests.Buffers;

/// <summary>The CPU view (vaddr, kmap, copies) against what each device model really moves.</summary>
public sealed class SgBufferDeviceTests
{
    private static readonly int PageSize = Environment.SystemPageSize;

    [Theory]
    [MemberData(nameof(TestDevices.Kinds), MemberType = typeof(TestDevices))]
    public void Bytes_written_through_vaddr_are_what_the_device_reads_after_prepare(string kind)
    {
        using var arena = BufferTestArena.Create(64);
        using var device = TestDevices.Create(kind);
        var buf = SgBufferTests.ScatteredBuffer(arena, device, 5, DmaDirection.ToDevice);
        var data = BufferTestArena.Pattern((int)buf.Size, seed: 11);

        WriteVaddr(buf, data);
        if (kind == TestDevices.BounceKind)
        {
            // The bounce copy was made at map time: the device still sees the zeroed pages.
            Assert.Equal(new byte[data.Length], DeviceRead(device, buf));
        }
        else
        {
            Assert.Equal(data, DeviceRead(device, buf));
        }

        buf.Prepare();
        Assert.Equal(data, DeviceRead(device, buf));

        Assert.True(buf.Put());
        AssertClean(device);
    }

    [Theory]
    [MemberData(nameof(TestDevices.Kinds), MemberType = typeof(TestDevices))]
    public void Device_writes_show_through_vaddr_after_finish(string kind)
    {
        using var arena = BufferTestArena.Create(64);
        using var device = TestDevices.Create(kind);
        var buf = SgBufferTests.ScatteredBuffer(arena, device, 4, DmaDirection.FromDevice);
        var frame = BufferTestArena.Pattern((int)buf.Size, seed: 12);
        nint va = buf.Vaddr();

        buf.Prepare();
        DeviceWrite(device, buf, frame);
        if (kind != TestDevices.BounceKind)
        {
            Assert.Equal(frame, ReadVaddr(va, frame.Length));
        }

        buf.Finish();
        Assert.Equal(frame, ReadVaddr(va, frame.Length));
        for (int i = 0; i < buf.NumPages; i++)
        {
            Assert.Equal(frame[i * PageSize], ReadVaddr(buf.Kmap(i), 1)[0]);
        }

        Assert.True(buf.Put());
        AssertClean(device);
    }

    [Fact]
    public void A_camera_behind_a_bounce_device_needs_finish()
    {
        using var arena = BufferTestArena.Create(64);
        using var camera = TestDevices.Bounce("camera");
        var buf = SgBuffer.Allocate(arena, camera, 3L * PageSize, DmaDirection.FromDevice, "frame#0");
        var old = BufferTestArena.Pattern((int)buf.Size, seed: 1);
        var frame = BufferTestArena.Pattern((int)buf.Size, seed: 2);
        buf.CopyFromCpu(0, old);
        buf.Prepare();

        DeviceWrite(camera, buf, frame);
        var seen = new byte[buf.Size];
        buf.CopyToCpu(0, seen);
        Assert.Equal(old, seen); // stale: the frame is still in the bounce slots

        buf.Finish();
        buf.CopyToCpu(0, seen);
        Assert.Equal(frame, seen);
        Assert.Equal(frame, ReadVaddr(buf.Vaddr(), frame.Length));

        buf.Put();
        AssertClean(camera);
    }

    [Fact]
    public void Prepare_and_finish_cover_orig_nents_when_an_iommu_merged_the_segments()
    {
        using var arena = BufferTestArena.Create(64);
        using var device = TestDevices.Iommu();
        var buf = SgBufferTests.ScatteredBuffer(arena, device, 6, DmaDirection.Bidirectional);
        Assert.Equal(1, buf.Cookie.Nents);
        Assert.Equal(6, buf.Cookie.OrigNents);

        // The checker throws on a sync with nents instead of orig_nents.
        buf.Prepare();
        buf.Finish();
        Assert.Throws<DmaApiException>(() => device.SyncSgForCpu(buf.Cookie, buf.Cookie.Nents, DmaDirection.Bidirectional));

        device.Clear();
        buf.Put();
        AssertClean(device);
    }

    [Theory]
    [MemberData(nameof(TestDevices.Kinds), MemberType = typeof(TestDevices))]
    public void Userptr_device_writes_reach_the_caller_memory_and_the_pages_are_dirty(string kind)
    {
        using var device = TestDevices.Create(kind);
        var array = new byte[(2 * PageSize) + 700];
        var memory = array.AsMemory(300, (2 * PageSize) + 100);
        var buf = SgBuffer.GetUserptr(device, memory, DmaDirection.Bidirectional, "user");
        var frame = BufferTestArena.Pattern(memory.Length, seed: 13);

        buf.Prepare();
        DeviceWrite(device, buf, frame);
        buf.Finish();

        Assert.Equal(frame, memory.ToArray());
        Assert.Equal(frame, ReadVaddr(buf.Vaddr(), frame.Length));
        Assert.Equal(buf.NumPages, buf.PutUserptr().Count);
        AssertClean(device);
    }

    [Theory]
    [MemberData(nameof(TestDevices.Kinds), MemberType = typeof(TestDevices))]
    public void Mmap_bytes_reach_the_device(string kind)
    {
        using var arena = BufferTestArena.Create(64);
        using var device = TestDevices.Create(kind);
        var buf = SgBufferTests.ScatteredBuffer(arena, device, 3, DmaDirection.ToDevice);
        var data = BufferTestArena.Pattern((int)buf.Size, seed: 14);

        using (var map = buf.Mmap(buf.Size))
        {
            data.CopyTo(map.AsSpan());
        }

        buf.Prepare();
        Assert.Equal(data, DeviceRead(device, buf));
        buf.Put();
        AssertClean(device);
    }

    [Fact]
    public void Large_buffers_on_a_bounce_device_get_segments_it_can_map()
    {
        using var arena = BufferTestArena.Create(512, maxOrder: 8);
        using var device = TestDevices.Bounce();
        var buf = SgBuffer.Allocate(arena, device, 1L << 20, DmaDirection.Bidirectional, "big");
        foreach (var e in buf.Cookie.Entries)
        {
            Assert.True(e.Length <= BounceDevice.MaxMappingSize);
        }

        buf.Put();
        AssertClean(device);
    }

    [Fact]
    public void Map_failure_of_a_lying_bounce_device_rolls_back()
    {
        using var arena = BufferTestArena.Create(512, maxOrder: 8);
        var before = arena.Snapshot();

        // The bounce device itself refuses a 1 MiB segment ("swiotlb buffer is full").
        using var device = new DmaApiChecker(new LyingSegmentDevice(new BounceDevice("bounce", 4L << 20), 1L << 20));
        var e = Assert.Throws<DmaSgException>(() => SgBuffer.Allocate(arena, device, 1L << 20, DmaDirection.ToDevice, "too-long"));
        Assert.Equal(DmaSgError.OutOfMemory, e.Error);
        Assert.Equal(before, arena.Snapshot());
        Assert.Equal([arena.BaseAddress], BufferTestArena.MappingsOf(arena));
        AssertClean(device);

        // A checker between the liar and the device catches it first, and the buffer still rolls back.
        using var checker = TestDevices.Bounce();
        var api = Assert.Throws<DmaApiException>(() =>
            SgBuffer.Allocate(arena, new LyingSegmentDevice(checker, 1L << 20), 1L << 20, DmaDirection.ToDevice, "too-long"));
        Assert.Equal(DmaApiViolationKind.SegmentTooLong, api.Kind);
        Assert.Equal(before, arena.Snapshot());
        Assert.Single(checker.Violations);
        checker.Clear();
        AssertClean(checker);
    }

    [Fact]
    public void Map_failure_of_an_iommu_out_of_iova_space_rolls_back()
    {
        using var arena = BufferTestArena.Create(64);
        var before = arena.Snapshot();
        using var device = TestDevices.Iommu(addressLimit: IommuDevice.DefaultIovaBase + (2L * PageSize));

        var e = Assert.Throws<DmaSgException>(() => SgBuffer.Allocate(arena, device, 3L * PageSize, DmaDirection.FromDevice, "no-iova"));

        Assert.Equal(DmaSgError.OutOfMemory, e.Error);
        Assert.Equal(before, arena.Snapshot());
        AssertClean(device);
    }

    [Fact]
    public void Map_failure_of_a_userptr_on_a_full_bounce_pool_unpins()
    {
        using var manager = new CountingMemoryManager(4 * PageSize);
        using var device = TestDevices.Bounce(poolSize: BounceDevice.SlotSize * 2);

        Assert.Equal(DmaSgError.OutOfMemory,
            Assert.Throws<DmaSgException>(() => SgBuffer.GetUserptr(device, manager.Memory, DmaDirection.ToDevice, "big")).Error);
        Assert.Equal(0, manager.Pins);
        AssertClean(device);
    }

    internal static void AssertClean(DmaApiChecker device)
    {
        Assert.Empty(device.Violations);
        Assert.Equal(0, device.RefCount);
        Assert.Equal(0, device.LiveMappings);
        Assert.Equal(0, device.Inner.LiveMappings);
    }

    internal static byte[] DeviceRead(IDmaDevice device, SgBuffer buf)
    {
        var result = new byte[buf.Size];
        int done = 0;
        foreach (var seg in buf.Cookie.Dma)
        {
            device.Read(seg.Address, result.AsSpan(done, (int)seg.Length));
            done += (int)seg.Length;
        }

        Assert.Equal(result.Length, done);
        return result;
    }

    internal static void DeviceWrite(IDmaDevice device, SgBuffer buf, ReadOnlySpan<byte> data)
    {
        int done = 0;
        foreach (var seg in buf.Cookie.Dma)
        {
            device.Write(seg.Address, data.Slice(done, (int)seg.Length));
            done += (int)seg.Length;
        }

        Assert.Equal(data.Length, done);
    }

    private static unsafe void WriteVaddr(SgBuffer buf, ReadOnlySpan<byte> data) =>
        data.CopyTo(new Span<byte>((void*)buf.Vaddr(), data.Length));

    private static unsafe byte[] ReadVaddr(nint address, int length) => new ReadOnlySpan<byte>((void*)address, length).ToArray();
}
