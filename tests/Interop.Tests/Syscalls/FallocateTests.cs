using System.IO.Pipes;
using DmaSg.Interop.Linux;
using DmaSg.Interop.Tests.Support;

namespace DmaSg.Interop.Tests.Syscalls;

public sealed class FallocateTests
{
    private static readonly int Page = ProcSelf.PageSize;

    private static SafeFd FilledMemfd(string prefix, int pages, byte fill, MemfdFlags extra = MemfdFlags.None)
    {
        SafeFd fd = Syscall.MemfdCreate(ProcSelf.UniqueName(prefix), MemfdFlags.Cloexec | extra);
        Syscall.Ftruncate(fd, (long)pages * Page);
        using SafeMapping map = Syscall.Mmap((nuint)(pages * Page), Protection.ReadWrite, MapFlags.Shared, fd, 0);
        map.AsSpan().Fill(fill);
        return fd;
    }

    [Fact]
    public void Punch_hole_zeroes_the_range_and_keeps_the_size()
    {
        using SafeFd fd = FilledMemfd("punch", 3, 0x6B);
        using SafeMapping map = Syscall.Mmap((nuint)(3 * Page), Protection.Read, MapFlags.Shared, fd, 0);

        Syscall.PunchHole(fd, Page, Page);

        Assert.Equal(3 * Page, ProcSelf.FileSize(fd));
        Assert.All(ProcSelf.Pread(fd, Page, Page), b => Assert.Equal(0, b));
        Assert.All(map.AsSpan().Slice(Page, Page).ToArray(), b => Assert.Equal(0, b));
        Assert.All(map.AsSpan()[..Page].ToArray(), b => Assert.Equal(0x6B, b));
        Assert.All(map.AsSpan()[(2 * Page)..].ToArray(), b => Assert.Equal(0x6B, b));
    }

    [Fact]
    public void Punch_hole_inside_a_page_zeroes_only_those_bytes()
    {
        using SafeFd fd = FilledMemfd("punch-partial", 1, 0x6B);

        Syscall.PunchHole(fd, 100, 50);

        byte[] data = ProcSelf.Pread(fd, 0, Page);
        Assert.All(data[..100], b => Assert.Equal(0x6B, b));
        Assert.All(data[100..150], b => Assert.Equal(0, b));
        Assert.All(data[150..], b => Assert.Equal(0x6B, b));
    }

    [Fact]
    public void Plain_fallocate_extends_the_file_and_keep_size_does_not()
    {
        using SafeFd fd = Syscall.MemfdCreate(ProcSelf.UniqueName("fallocate"), MemfdFlags.Cloexec);

        Syscall.Fallocate(fd, FallocateMode.KeepSize, 0, 2 * Page);
        Assert.Equal(0, ProcSelf.FileSize(fd));

        Syscall.Fallocate(fd, FallocateMode.None, 0, 2 * Page);
        Assert.Equal(2 * Page, ProcSelf.FileSize(fd));
    }

    [Fact]
    public void Punch_hole_without_keep_size_fails_with_EOPNOTSUPP()
    {
        using SafeFd fd = FilledMemfd("punch-nokeep", 1, 1);

        var e = Assert.Throws<ErrnoException>(() => Syscall.Fallocate(fd, FallocateMode.PunchHole, 0, Page));
        Assert.Equal((Errno.EOPNOTSUPP, "fallocate"), (e.Errno, e.Call));
    }

    [Fact]
    public void Negative_offset_fails_with_EINVAL()
    {
        using SafeFd fd = FilledMemfd("punch-neg", 1, 1);

        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => Syscall.PunchHole(fd, -Page, Page)).Errno);
    }

    [Fact]
    public void Punch_hole_on_a_write_sealed_memfd_fails_with_EPERM()
    {
        using SafeFd fd = FilledMemfd("punch-sealed", 1, 1, MemfdFlags.AllowSealing);
        Syscall.AddSeals(fd, SealFlags.Write);

        Assert.Equal(Errno.EPERM, Assert.Throws<ErrnoException>(() => Syscall.PunchHole(fd, 0, Page)).Errno);
        Assert.All(ProcSelf.Pread(fd, 0, Page), b => Assert.Equal(1, b));
    }

    [Fact]
    public void Read_only_fd_fails_with_EBADF()
    {
        using SafeFd fd = FilledMemfd("punch-ro", 1, 1);
        using SafeFd readOnly = Syscall.Open($"/proc/self/fd/{fd.Fd}", OpenFlags.ReadOnly | OpenFlags.Cloexec);

        Assert.Equal(Errno.EBADF, Assert.Throws<ErrnoException>(() => Syscall.PunchHole(readOnly, 0, Page)).Errno);
    }

    [Fact]
    public void Character_device_fails_with_ENODEV()
    {
        using SafeFd devNull = Syscall.Open("/dev/null", OpenFlags.ReadWrite | OpenFlags.Cloexec);

        var e = Assert.Throws<ErrnoException>(() => Syscall.PunchHole(devNull, 0, Page));
        Assert.Equal((Errno.ENODEV, "fallocate"), (e.Errno, e.Call));
    }

    [Fact]
    public void Pipe_fails_with_ESPIPE()
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        using var writeEnd = new SafeFd((int)pipe.SafePipeHandle.DangerousGetHandle(), ownsHandle: false);

        var e = Assert.Throws<ErrnoException>(() => Syscall.PunchHole(writeEnd, 0, Page));
        Assert.Equal((Errno.ESPIPE, "fallocate"), (e.Errno, e.Call));
    }
}
