using DmaSg.Interop.Linux;
using DmaSg.Interop.Tests.Support;

namespace DmaSg.Interop.Tests.Syscalls;

/// <summary>
/// The dma-heap, dma-buf and udmabuf ioctl wrappers on fds that are not those devices: the errors the
/// kernel gives (the real devices are exercised in tests/Kernel.Tests inside a kernel that has them).
/// </summary>
public sealed class DmaBufIoctlTests
{
    [Fact]
    public void Heap_alloc_on_a_device_that_is_not_a_heap_is_ENOTTY_and_names_the_ioctl()
    {
        using SafeFd notHeap = Syscall.Open("/dev/null", OpenFlags.ReadOnly | OpenFlags.Cloexec);

        var e = Assert.Throws<ErrnoException>(() => Syscall.DmaHeapAlloc(notHeap, 4096));

        Assert.Equal(Errno.ENOTTY, e.Errno);
        Assert.Equal("ioctl(DMA_HEAP_IOCTL_ALLOC)", e.Call);
    }

    [Fact]
    public void Sync_and_set_name_on_a_memfd_are_ENOTTY()
    {
        using SafeFd memfd = Syscall.MemfdCreate(ProcSelf.UniqueName("not-dmabuf"), MemfdFlags.Cloexec);

        var sync = Assert.Throws<ErrnoException>(() => Syscall.DmaBufSync(memfd, DmaBufSyncFlags.Start | DmaBufSyncFlags.Read));
        Assert.Equal(Errno.ENOTTY, sync.Errno);
        Assert.StartsWith("ioctl(DMA_BUF_IOCTL_SYNC", sync.Call);

        var name = Assert.Throws<ErrnoException>(() => Syscall.DmaBufSetName(memfd, "x"));
        Assert.Equal(Errno.ENOTTY, name.Errno);
    }

    [Fact]
    public void Set_name_refuses_32_bytes_and_NUL_before_the_call()
    {
        using SafeFd memfd = Syscall.MemfdCreate(ProcSelf.UniqueName("names"), MemfdFlags.Cloexec);

        Assert.Throws<ArgumentException>(() => Syscall.DmaBufSetName(memfd, new string('a', DmaBuf.NameLength)));
        Assert.Throws<ArgumentException>(() => Syscall.DmaBufSetName(memfd, "a\0b"));
        Assert.Throws<ArgumentException>(() => Syscall.DmaBufSetName(memfd, new string('é', 16)));

        // 31 bytes pass the check and reach the kernel, which says this is no dmabuf.
        Assert.Equal(Errno.ENOTTY, Assert.Throws<ErrnoException>(() => Syscall.DmaBufSetName(memfd, new string('a', 31))).Errno);
    }

    [Fact]
    public void Udmabuf_create_list_on_a_device_that_is_not_udmabuf_is_ENOTTY()
    {
        using SafeFd notUdmabuf = Syscall.Open("/dev/null", OpenFlags.ReadWrite | OpenFlags.Cloexec);
        using SafeFd memfd = Syscall.MemfdCreate(ProcSelf.UniqueName("udmabuf-src"), MemfdFlags.Cloexec | MemfdFlags.AllowSealing);

        var e = Assert.Throws<ErrnoException>(() => Syscall.UdmabufCreateList(notUdmabuf, memfd, [new UdmabufRange(0, 4096)]));

        Assert.Equal(Errno.ENOTTY, e.Errno);
        Assert.Equal("ioctl(UDMABUF_CREATE_LIST, 1 items)", e.Call);
    }

    [Fact]
    public void Sync_retries_EINTR_and_EAGAIN_and_passes_other_results_on()
    {
        var results = new Queue<int>([-Errno.EINTR, -Errno.EAGAIN, -Errno.EINTR, 0]);
        int calls = 0;
        Assert.Equal(0, Syscall.RetryInterrupted(() =>
        {
            calls++;
            return results.Dequeue();
        }));
        Assert.Equal(4, calls);

        calls = 0;
        Assert.Equal(-Errno.EINVAL, Syscall.RetryInterrupted(() =>
        {
            calls++;
            return -Errno.EINVAL;
        }));
        Assert.Equal(1, calls);
    }

    [Fact]
    public void Sync_gives_up_after_a_bounded_number_of_interruptions()
    {
        int calls = 0;

        Assert.Equal(-Errno.EINTR, Syscall.RetryInterrupted(() =>
        {
            calls++;
            return -Errno.EINTR;
        }));
        Assert.Equal(Syscall.SyncAttempts, calls);
    }
}
