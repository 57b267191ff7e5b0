using DmaSg.Interop;
using DmaSg.Interop.Linux;
using DmaSg.Memory.Buffers;
using DmaSg.Memory.Dma;

namespace DmaSg.Memory.Tests.Buffers;

public sealed class SgBufferUserptrTests
{
    private static readonly int PageSize = Environment.SystemPageSize;

    [Fact]
    public void Unaligned_start_keeps_its_offset_in_the_buffer_and_the_table()
    {
        using var mem = Syscall.Mmap((nuint)(4 * PageSize), Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, null, 0);
        var device = TestDevices.Coherent();

        var buf = SgBuffer.GetUserptr(device, mem.Address + 100, 2L * PageSize, DmaDirection.ToDevice, "user#1");

        Assert.True(buf.IsUserptr);
        Assert.Equal(100, buf.Offset);
        Assert.Equal(2L * PageSize, buf.Size);
        Assert.Equal(3, buf.NumPages);
        Assert.Equal(mem.Address + 100, buf.Vaddr());
        Assert.Equal(mem.Address + PageSize, buf.Kmap(1));
        Assert.Equal(100, buf.SgTable.FirstOffset);
        Assert.Equal(2L * PageSize, buf.SgTable.Length);
        Assert.Equal(mem.Address + 100, buf.SgTable.Entries[0].Cpu);
        Assert.True(buf.Cookie.IsMapped);
        Assert.True(buf.Pages.IsEmpty);
        Assert.Equal(1, device.RefCount);

        Assert.Empty(buf.PutUserptr());
        Assert.True(buf.IsReleased);
        Assert.Equal(0, device.RefCount);
        Assert.Equal(0, device.LiveMappings);
    }

    [Fact]
    public void Cpu_copies_go_to_the_caller_memory()
    {
        var array = new byte[(2 * PageSize) + 333];
        var buf = SgBuffer.GetUserptr(TestDevices.Coherent(), array.AsMemory(), DmaDirection.Bidirectional, "user");
        var data = BufferTestArena.Pattern(array.Length, seed: 6);

        buf.CopyFromCpu(0, data);
        Assert.Equal(data, array);

        array[^1] = 0x5A;
        var last = new byte[1];
        buf.CopyToCpu(buf.Size - 1, last);
        Assert.Equal(0x5A, last[0]);
        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => buf.CopyToCpu(buf.Size, new byte[1])).Error);
        buf.PutUserptr();
    }

    [Fact]
    public void Userptr_buffers_are_not_mmapped_and_PutUserptr_is_only_for_them()
    {
        var buf = SgBuffer.GetUserptr(TestDevices.Coherent(), new byte[PageSize].AsMemory(), DmaDirection.ToDevice, "user");
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => buf.Mmap(PageSize)).Error);
        buf.PutUserptr();

        using var arena = BufferTestArena.Create(8);
        var mmapBuf = SgBuffer.Allocate(arena, TestDevices.Coherent(), PageSize, DmaDirection.ToDevice, "mmap");
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => mmapBuf.PutUserptr()).Error);
        mmapBuf.Put();
    }

    [Theory]
    [InlineData(DmaDirection.FromDevice, true)]
    [InlineData(DmaDirection.Bidirectional, true)]
    [InlineData(DmaDirection.ToDevice, false)]
    public void Release_reports_dirty_pages_when_the_device_may_have_written(DmaDirection dir, bool dirty)
    {
        using var mem = Syscall.Mmap((nuint)(4 * PageSize), Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, null, 0);
        var buf = SgBuffer.GetUserptr(TestDevices.Coherent(), mem.Address + 5, (2L * PageSize) + 10, dir, "user");

        var reported = buf.PutUserptr();

        nint[] all = [mem.Address, mem.Address + PageSize, mem.Address + (2 * PageSize)];
        Assert.Equal(dirty ? all : [], reported);
        Assert.Equal(reported, buf.DirtyPages);
    }

    [Fact]
    public void Pages_stay_pinned_while_the_buffer_lives_even_with_other_refs()
    {
        using var manager = new CountingMemoryManager(2 * PageSize);
        var device = TestDevices.Coherent();
        var buf = SgBuffer.GetUserptr(device, manager.Memory, DmaDirection.FromDevice, "user");
        Assert.Equal(1, manager.Pins);
        Assert.True(buf.UserPages!.IsPinned);

        buf.AddRef();
        Assert.Empty(buf.PutUserptr());
        Assert.False(buf.IsReleased);
        Assert.Equal(1, manager.Pins);

        Assert.True(buf.Put());
        Assert.Equal(0, manager.Pins);
        Assert.Equal(2, buf.DirtyPages.Count);
        Assert.Equal(0, device.RefCount);
    }

    [Fact]
    public void Read_only_native_memory_works_for_ToDevice()
    {
        using var arena = BufferTestArena.Create(8);
        var data = BufferTestArena.Pattern(2 * PageSize, seed: 7);
        data.CopyTo(arena.PageSpan(2, 2));
        using var ro = Syscall.Mmap((nuint)(2 * PageSize), Protection.Read, MapFlags.Shared, arena.Fd, arena.OffsetOf(2));
        var device = TestDevices.Coherent();

        var buf = SgBuffer.GetUserptr(device, ro.Address + 1, (2L * PageSize) - 1, DmaDirection.ToDevice, "ro");
        buf.Prepare();
        var seen = new byte[buf.Size];
        device.Read(buf.Cookie.Dma[0].Address, seen);
        Assert.Equal(data[1..], seen);
        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => buf.CopyFromCpu(0, new byte[1])).Error);
        Assert.Empty(buf.PutUserptr());

        Assert.Equal(DmaSgError.Fault,
            Assert.Throws<DmaSgException>(() => SgBuffer.GetUserptr(device, ro.Address, PageSize, DmaDirection.FromDevice, "ro")).Error);
        Assert.Equal(0, device.RefCount);
    }

    [Fact]
    public void Read_only_managed_memory_works_for_ToDevice()
    {
        var data = BufferTestArena.Pattern(PageSize + 50, seed: 8);
        ReadOnlyMemory<byte> ro = data;
        var device = TestDevices.Coherent();
        var buf = SgBuffer.GetUserptr(device, ro, DmaDirection.ToDevice, "ro");

        var seen = new byte[buf.Size];
        buf.CopyToCpu(0, seen);
        Assert.Equal(data, seen);
        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => buf.CopyFromCpu(0, new byte[1])).Error);
        buf.PutUserptr();

        Assert.Equal(DmaSgError.Fault,
            Assert.Throws<DmaSgException>(() => SgBuffer.GetUserptr(device, ro, DmaDirection.Bidirectional, "ro")).Error);
        Assert.Equal(0, device.RefCount);
    }

    [Fact]
    public void Map_failure_unpins_and_puts_the_device()
    {
        using var manager = new CountingMemoryManager(2 * PageSize);
        var device = TestDevices.Coherent(addressLimit: 4096);

        Assert.Throws<DmaSgException>(() => SgBuffer.GetUserptr(device, manager.Memory, DmaDirection.FromDevice, "far"));

        Assert.Equal(0, manager.Pins);
        Assert.Equal(0, device.RefCount);
        Assert.Equal(0, device.LiveMappings);
    }

    [Fact]
    public void Bad_userptr_arguments_are_typed_and_change_nothing()
    {
        using var mem = Syscall.Mmap((nuint)PageSize, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, null, 0);
        var device = TestDevices.Coherent();

        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => SgBuffer.GetUserptr(null!, mem.Address, 8, DmaDirection.ToDevice, "x")).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => SgBuffer.GetUserptr(device, mem.Address, 0, DmaDirection.ToDevice, "x")).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => SgBuffer.GetUserptr(device, mem.Address, 8, DmaDirection.None, "x")).Error);
        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => SgBuffer.GetUserptr(device, 0, 8, DmaDirection.ToDevice, "x")).Error);
        Assert.Equal(0, device.RefCount);
    }
}
