using DmaSg.Interop.Linux;
using DmaSg.Interop.Tests.Support;

namespace DmaSg.Interop.Tests.Syscalls;

public sealed class FtruncateTests
{
    [Fact]
    public void Sets_the_size_seen_by_fstat_both_ways()
    {
        using SafeFd fd = Syscall.MemfdCreate(ProcSelf.UniqueName("ftruncate"), MemfdFlags.Cloexec);
        int page = ProcSelf.PageSize;

        Syscall.Ftruncate(fd, 3 * page);
        Assert.Equal(3 * page, ProcSelf.FileSize(fd));

        Syscall.Ftruncate(fd, page + 1);
        Assert.Equal(page + 1, ProcSelf.FileSize(fd));

        Syscall.Ftruncate(fd, 0);
        Assert.Equal(0, ProcSelf.FileSize(fd));
    }

    [Fact]
    public void Growing_reads_back_zeros_and_shrinking_drops_data()
    {
        using SafeFd fd = Syscall.MemfdCreate(ProcSelf.UniqueName("ftruncate-data"), MemfdFlags.Cloexec);
        int page = ProcSelf.PageSize;
        Syscall.Ftruncate(fd, 2 * page);
        using (SafeMapping map = Syscall.Mmap((nuint)(2 * page), Protection.ReadWrite, MapFlags.Shared, fd, 0))
        {
            map.AsSpan().Fill(0x5A);
        }

        Syscall.Ftruncate(fd, page);
        Syscall.Ftruncate(fd, 2 * page);

        Assert.All(ProcSelf.Pread(fd, 0, page), b => Assert.Equal(0x5A, b));
        Assert.All(ProcSelf.Pread(fd, page, page), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Negative_length_fails_with_EINVAL()
    {
        using SafeFd fd = Syscall.MemfdCreate(ProcSelf.UniqueName("ftruncate-neg"), MemfdFlags.Cloexec);

        var e = Assert.Throws<ErrnoException>(() => Syscall.Ftruncate(fd, -1));
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Equal("ftruncate", e.Call);
    }

    [Fact]
    public void Fd_number_that_is_not_open_fails_with_EBADF()
    {
        using var bad = new SafeFd(int.MaxValue, ownsHandle: false);

        var e = Assert.Throws<ErrnoException>(() => Syscall.Ftruncate(bad, 4096));
        Assert.Equal(Errno.EBADF, e.Errno);
    }

    [Fact]
    public void Read_only_fd_fails_with_EINVAL()
    {
        // ftruncate needs an fd open for writing (do_ftruncate answers EINVAL); reopening the memfd read-only gives one that is not.
        using SafeFd fd = Syscall.MemfdCreate(ProcSelf.UniqueName("ftruncate-ro"), MemfdFlags.Cloexec);
        using SafeFd readOnly = Syscall.Open($"/proc/self/fd/{fd.Fd}", OpenFlags.ReadOnly | OpenFlags.Cloexec);

        var e = Assert.Throws<ErrnoException>(() => Syscall.Ftruncate(readOnly, 4096));
        Assert.Equal(Errno.EINVAL, e.Errno);
    }

    [Fact]
    public void Disposed_SafeFd_throws_ObjectDisposedException_without_calling_the_kernel()
    {
        SafeFd fd = Syscall.MemfdCreate(ProcSelf.UniqueName("ftruncate-closed"), MemfdFlags.Cloexec);
        fd.Dispose();

        Assert.Throws<ObjectDisposedException>(() => Syscall.Ftruncate(fd, 4096));
    }
}
