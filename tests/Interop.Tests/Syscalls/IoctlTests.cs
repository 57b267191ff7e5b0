using DmaSg.Interop.Linux;
using DmaSg.Interop.Tests.Support;

namespace DmaSg.Interop.Tests.Syscalls;

public sealed unsafe class IoctlTests
{
    // Generic ioctls handled by the VFS for every fd (asm-generic/ioctls.h, same on x86-64 and arm64).
    private const uint FIONREAD = 0x541B;
    private const uint FIONCLEX = 0x5450;
    private const uint FIOCLEX = 0x5451;

    private static readonly int Page = ProcSelf.PageSize;

    [Fact]
    public void Dma_buf_sync_on_a_memfd_fails_with_ENOTTY()
    {
        using SafeFd fd = Syscall.MemfdCreate(ProcSelf.UniqueName("ioctl-notty"), MemfdFlags.Cloexec);
        var sync = new DmaBufSyncData { Flags = (ulong)(DmaBufSyncFlags.Start | DmaBufSyncFlags.ReadWrite) };

        var e = Assert.Throws<ErrnoException>(() => Syscall.Ioctl(fd, DmaBuf.IoctlSync, ref sync));

        Assert.Equal(Errno.ENOTTY, e.Errno);
        Assert.Equal("ioctl(0x40086200)", e.Call);
        Assert.StartsWith("ioctl(0x40086200): ENOTTY (25): ", e.Message);
    }

    [Fact]
    public void Ioctl_on_an_fd_that_is_not_open_fails_with_EBADF()
    {
        using var bad = new SafeFd(int.MaxValue, ownsHandle: false);
        var sync = new DmaBufSyncData();

        Assert.Equal(Errno.EBADF, Assert.Throws<ErrnoException>(() => Syscall.Ioctl(bad, DmaBuf.IoctlSync, ref sync)).Errno);
    }

    [Fact]
    public void TryIoctl_returns_minus_errno_instead_of_throwing()
    {
        using SafeFd fd = Syscall.MemfdCreate(ProcSelf.UniqueName("ioctl-try"), MemfdFlags.Cloexec);
        using var bad = new SafeFd(int.MaxValue, ownsHandle: false);
        var sync = new DmaBufSyncData();

        Assert.Equal(-Errno.ENOTTY, Syscall.TryIoctl(fd, DmaBuf.IoctlSync, &sync));
        Assert.Equal(-Errno.EBADF, Syscall.TryIoctl(bad, DmaBuf.IoctlSync, &sync));
    }

    [Fact]
    public void Struct_argument_is_written_back_by_the_kernel()
    {
        using SafeFd fd = Syscall.MemfdCreate(ProcSelf.UniqueName("ioctl-fionread"), MemfdFlags.Cloexec);
        Syscall.Ftruncate(fd, 3 * Page + 5);
        int available = -1;

        int result = Syscall.Ioctl(fd, FIONREAD, ref available);

        // For a regular file FIONREAD is the bytes between the file position (0) and the end.
        Assert.Equal(0, result);
        Assert.Equal(3 * Page + 5, available);
    }

    [Fact]
    public void TryIoctl_success_returns_the_result_and_takes_effect()
    {
        using SafeFd fd = Syscall.MemfdCreate(ProcSelf.UniqueName("ioctl-cloexec"), MemfdFlags.Cloexec);

        Assert.Equal(0, Syscall.TryIoctl(fd, FIONCLEX, null));
        Assert.Equal(0, ProcSelf.FdFlags(fd) & FcntlCommand.FD_CLOEXEC);

        Assert.Equal(0, Syscall.Ioctl(fd, FIOCLEX, null));
        Assert.Equal(FcntlCommand.FD_CLOEXEC, ProcSelf.FdFlags(fd) & FcntlCommand.FD_CLOEXEC);
    }

    [Fact]
    public void Disposed_fd_throws_ObjectDisposedException()
    {
        SafeFd fd = Syscall.MemfdCreate(ProcSelf.UniqueName("ioctl-disposed"), MemfdFlags.Cloexec);
        fd.Dispose();

        Assert.Throws<ObjectDisposedException>(() => Syscall.TryIoctl(fd, FIOCLEX, null));
    }
}
