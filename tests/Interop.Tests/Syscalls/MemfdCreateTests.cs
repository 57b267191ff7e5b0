using DmaSg.Interop.Linux;
using DmaSg.Interop.Tests.Support;

namespace DmaSg.Interop.Tests.Syscalls;

public sealed class MemfdCreateTests
{
    private const int OCloexec = 0x80000; // 02000000 octal, as fdinfo prints it

    [Fact]
    public void Cloexec_sealing_memfd_shows_as_memfd_name_and_is_close_on_exec()
    {
        string name = ProcSelf.UniqueName("memfd-create");
        using SafeFd fd = Syscall.MemfdCreate(name, MemfdFlags.Cloexec | MemfdFlags.AllowSealing);

        Assert.False(fd.IsInvalid);
        Assert.StartsWith("/memfd:" + name, ProcSelf.FdTarget(fd.Fd));
        Assert.True(ProcSelf.FdIsMemfd(fd.Fd, name));
        Assert.Equal(FcntlCommand.FD_CLOEXEC, ProcSelf.FdFlags(fd) & FcntlCommand.FD_CLOEXEC);
        Assert.Equal(OCloexec, ProcSelf.FdInfoFlags(fd.Fd) & OCloexec);
        Assert.Equal(0, ProcSelf.FileSize(fd));
    }

    [Fact]
    public void Without_cloexec_the_fd_survives_exec()
    {
        using SafeFd fd = Syscall.MemfdCreate(ProcSelf.UniqueName("memfd-inherit"), MemfdFlags.None);

        Assert.Equal(0, ProcSelf.FdFlags(fd) & FcntlCommand.FD_CLOEXEC);
        Assert.Equal(0, ProcSelf.FdInfoFlags(fd.Fd) & OCloexec);
    }

    [Fact]
    public void Unknown_flag_bit_fails_with_EINVAL()
    {
        var e = Assert.Throws<ErrnoException>(() => Syscall.MemfdCreate("bad-flags", (MemfdFlags)0x8000_0000));

        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Equal("memfd_create", e.Call);
        Assert.StartsWith("memfd_create: EINVAL (22): ", e.Message);
    }

    [Fact]
    public void Name_of_249_bytes_is_accepted_and_250_fails_with_EINVAL()
    {
        // NAME_MAX minus the "memfd:" prefix.
        using (SafeFd fd = Syscall.MemfdCreate(new string('n', 249), MemfdFlags.Cloexec))
        {
            Assert.False(fd.IsInvalid);
        }

        var e = Assert.Throws<ErrnoException>(() => Syscall.MemfdCreate(new string('n', 250), MemfdFlags.Cloexec));
        Assert.Equal(Errno.EINVAL, e.Errno);
    }

    [Fact]
    public void Null_name_is_rejected_before_the_call()
    {
        Assert.Throws<ArgumentNullException>(() => Syscall.MemfdCreate(null!, MemfdFlags.Cloexec));
    }

    [Fact]
    public void Utf8_name_reaches_the_kernel_unchanged()
    {
        string name = "grüße-" + Guid.NewGuid().ToString("N");
        using SafeFd fd = Syscall.MemfdCreate(name, MemfdFlags.Cloexec);

        Assert.True(ProcSelf.FdIsMemfd(fd.Fd, name));
    }
}
