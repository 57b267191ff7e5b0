using DmaSg.Interop;
using DmaSg.Interop.Linux;
using DmaSg.Kernel.Tests.Support;
using DmaSg.Memory;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Dma;

namespace DmaSg.Kernel.Tests.Backends;

/// <summary>/dev/dma_heap/system through DMA_HEAP_IOCTL_ALLOC, mmap, DMA_BUF_IOCTL_SYNC and DMA_BUF_SET_NAME.</summary>
public sealed class DmaHeapTests
{
    private static readonly int Page = Arenas.Page;

    [Fact]
    public void Allocation_is_whole_pages_zeroed_named_and_a_real_dmabuf()
    {
        Devices.RequireDmaHeap();
        using var heap = new DmaHeapProvider();
        Assert.True(heap.Probe().Usable, heap.Probe().Reason);

        using ExportedBuffer buffer = heap.Allocate((3 * Page) + 1, "zeroed");

        Assert.Equal(ExportKind.DmaHeap, buffer.Kind);
        Assert.True(buffer.IsDmabuf);
        Assert.Equal(4 * Page, buffer.Size);
        Assert.Equal(4 * Page, Syscall.SizeOfFd(buffer.Fd));
        Assert.Equal("dmasg:zeroed", buffer.KernelName);
        Dictionary<string, string> info = ProcFds.FdInfo(buffer.Fd.Fd);
        Assert.Equal("dmasg:zeroed", info["name"]);
        Assert.Equal((4 * Page).ToString(), info["size"]);
        Assert.Contains("dmabuf", new FileInfo($"/proc/self/fd/{buffer.Fd.Fd}").LinkTarget);

        using SafeMapping map = buffer.Map();
        buffer.BeginCpuAccess(DmaDirection.FromDevice);
        Assert.True(map.AsSpan().IndexOfAnyExcept((byte)0) < 0, "a fresh heap buffer is not zeroed");
        buffer.EndCpuAccess(DmaDirection.FromDevice);
    }

    [Fact]
    public void Bytes_written_through_one_mapping_are_read_through_another_fd_and_mapping()
    {
        Devices.RequireDmaHeap();
        using var heap = new DmaHeapProvider();
        using ExportedBuffer buffer = heap.Allocate(8 * Page, "rw");
        using SafeMapping first = buffer.Map();
        buffer.BeginCpuAccess(DmaDirection.ToDevice);
        Span<byte> w = first.AsSpan();
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = Arenas.Pattern(i, 3);
        }

        buffer.EndCpuAccess(DmaDirection.ToDevice);

        using SafeFd dup = buffer.DuplicateFd();
        using SafeMapping second = Syscall.Mmap((nuint)buffer.Size, Protection.Read, MapFlags.Shared, dup, 0);
        Syscall.DmaBufSync(dup, DmaBufSyncFlags.Start | DmaBufSyncFlags.Read);
        ReadOnlySpan<byte> r = second.AsSpan();
        for (int i = 0; i < r.Length; i++)
        {
            Assert.Equal(Arenas.Pattern(i, 3), r[i]);
        }

        Syscall.DmaBufSync(dup, DmaBufSyncFlags.End | DmaBufSyncFlags.Read);
    }

    [Fact]
    public void Sync_start_and_end_work_for_every_direction_and_bad_flags_are_EINVAL()
    {
        Devices.RequireDmaHeap();
        using var heap = new DmaHeapProvider();
        using ExportedBuffer buffer = heap.Allocate(Page, "sync");

        foreach (DmaDirection dir in new[] { DmaDirection.ToDevice, DmaDirection.FromDevice, DmaDirection.Bidirectional })
        {
            buffer.Finish(dir);
            buffer.Prepare(dir);
        }

        // Neither READ nor WRITE, and an unknown bit: the kernel refuses both.
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => Syscall.DmaBufSync(buffer.Fd, DmaBufSyncFlags.Start)).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => Syscall.DmaBufSync(buffer.Fd, (DmaBufSyncFlags)8 | DmaBufSyncFlags.Read)).Errno);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => buffer.BeginCpuAccess(DmaDirection.None)).Error);
    }

    [Fact]
    public void Bad_allocations_are_refused_by_the_kernel_and_leave_no_fd()
    {
        Devices.RequireDmaHeap();
        using SafeFd heap = Syscall.Open(Devices.SystemHeap, OpenFlags.ReadOnly | OpenFlags.Cloexec);
        var before = ProcFds.Snapshot();

        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => Syscall.DmaHeapAlloc(heap, 0)).Errno);
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => Syscall.DmaHeapAlloc(heap, (ulong)Page, (OpenFlags)0x800)).Errno);

        ProcFds.AssertSame(before, ProcFds.Snapshot());
    }

    [Fact]
    public void Set_name_takes_31_bytes_and_refuses_32()
    {
        Devices.RequireDmaHeap();
        using SafeFd heap = Syscall.Open(Devices.SystemHeap, OpenFlags.ReadOnly | OpenFlags.Cloexec);
        using SafeFd buf = Syscall.DmaHeapAlloc(heap, (ulong)Page);
        string longest = new('n', DmaBuf.NameLength - 1);

        Syscall.DmaBufSetName(buf, longest);
        Assert.Equal(longest, ProcFds.FdInfo(buf.Fd)["name"]);

        Assert.Throws<ArgumentException>(() => Syscall.DmaBufSetName(buf, longest + "x"));
        Assert.Equal(longest, ProcFds.FdInfo(buf.Fd)["name"]);
    }

    [Fact]
    public void Cpu_sg_view_of_a_heap_buffer_is_one_range()
    {
        Devices.RequireDmaHeap();
        using var heap = new DmaHeapProvider();
        using ExportedBuffer buffer = heap.Allocate(5 * Page, "sgview");
        using SafeMapping map = buffer.Map();

        var sgt = buffer.CpuSgTable(map);

        Assert.Equal(1, sgt.OrigNents);
        Assert.Equal(map.Address, sgt.Entries[0].Cpu);
        Assert.Equal(5 * Page, sgt.Entries[0].Length);
    }
}
