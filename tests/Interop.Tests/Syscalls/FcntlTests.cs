using DmaSg.Interop.Linux;
using DmaSg.Interop.Tests.Support;

namespace DmaSg.Interop.Tests.Syscalls;

public sealed class FcntlTests
{
    private static readonly int Page = ProcSelf.PageSize;

    private static SafeFd SealingMemfd(string prefix) =>
        Syscall.MemfdCreate(ProcSelf.UniqueName(prefix), MemfdFlags.Cloexec | MemfdFlags.AllowSealing);

    [Fact]
    public void Fresh_sealing_memfd_has_no_seals()
    {
        using SafeFd fd = SealingMemfd("seals-fresh");

        Assert.Equal(SealFlags.None, Syscall.GetSeals(fd));
    }

    [Fact]
    public void Shrink_seal_forbids_shrinking_with_EPERM_but_allows_growing()
    {
        using SafeFd fd = SealingMemfd("seals-shrink");
        Syscall.Ftruncate(fd, 2 * Page);

        Syscall.AddSeals(fd, SealFlags.Shrink);

        Assert.Equal(SealFlags.Shrink, Syscall.GetSeals(fd));
        var e = Assert.Throws<ErrnoException>(() => Syscall.Ftruncate(fd, Page));
        Assert.Equal(Errno.EPERM, e.Errno);
        Assert.Equal("ftruncate", e.Call);
        Assert.Equal(2 * Page, ProcSelf.FileSize(fd));

        Syscall.Ftruncate(fd, 3 * Page);
        Assert.Equal(3 * Page, ProcSelf.FileSize(fd));
    }

    [Fact]
    public void Seals_accumulate()
    {
        using SafeFd fd = SealingMemfd("seals-accumulate");

        Syscall.AddSeals(fd, SealFlags.Shrink);
        Syscall.AddSeals(fd, SealFlags.Grow);

        Assert.Equal(SealFlags.Shrink | SealFlags.Grow, Syscall.GetSeals(fd));
        Assert.Equal(Errno.EPERM, Assert.Throws<ErrnoException>(() => Syscall.Ftruncate(fd, Page)).Errno);
    }

    [Fact]
    public void Seal_seal_makes_further_AddSeals_fail_with_EPERM()
    {
        using SafeFd fd = SealingMemfd("seals-seal");
        Syscall.AddSeals(fd, SealFlags.Seal);

        var e = Assert.Throws<ErrnoException>(() => Syscall.AddSeals(fd, SealFlags.Write));

        Assert.Equal(Errno.EPERM, e.Errno);
        Assert.Equal("fcntl(F_ADD_SEALS)", e.Call);
        Assert.Equal(SealFlags.Seal, Syscall.GetSeals(fd));
    }

    [Fact]
    public void Memfd_without_allow_sealing_starts_sealed_with_F_SEAL_SEAL()
    {
        using SafeFd fd = Syscall.MemfdCreate(ProcSelf.UniqueName("seals-none"), MemfdFlags.Cloexec);

        Assert.Equal(SealFlags.Seal, Syscall.GetSeals(fd));
        Assert.Equal(Errno.EPERM, Assert.Throws<ErrnoException>(() => Syscall.AddSeals(fd, SealFlags.Shrink)).Errno);
    }

    [Fact]
    public void Write_seal_while_a_writable_shared_mapping_exists_fails_with_EBUSY()
    {
        using SafeFd fd = SealingMemfd("seals-busy");
        Syscall.Ftruncate(fd, Page);
        using (SafeMapping map = Syscall.Mmap((nuint)Page, Protection.ReadWrite, MapFlags.Shared, fd, 0))
        {
            Assert.Equal(Errno.EBUSY, Assert.Throws<ErrnoException>(() => Syscall.AddSeals(fd, SealFlags.Write)).Errno);
        }

        // Once the mapping is gone the seal is accepted and writes through a new mapping are refused.
        Syscall.AddSeals(fd, SealFlags.Write);
        Assert.Equal(SealFlags.Write, Syscall.GetSeals(fd));
        Assert.Equal(Errno.EPERM,
            Assert.Throws<ErrnoException>(() => Syscall.Mmap((nuint)Page, Protection.ReadWrite, MapFlags.Shared, fd, 0)).Errno);
    }

    [Fact]
    public void Seals_on_a_file_that_is_not_shmem_fail_with_EINVAL()
    {
        using SafeFd devNull = Syscall.Open("/dev/null", OpenFlags.ReadWrite | OpenFlags.Cloexec);

        var get = Assert.Throws<ErrnoException>(() => Syscall.GetSeals(devNull));
        var add = Assert.Throws<ErrnoException>(() => Syscall.AddSeals(devNull, SealFlags.Shrink));

        Assert.Equal((Errno.EINVAL, "fcntl(F_GET_SEALS)"), (get.Errno, get.Call));
        Assert.Equal((Errno.EINVAL, "fcntl(F_ADD_SEALS)"), (add.Errno, add.Call));
    }

    [Fact]
    public void Unknown_seal_bit_fails_with_EINVAL()
    {
        using SafeFd fd = SealingMemfd("seals-unknown");

        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => Syscall.AddSeals(fd, (SealFlags)0x4000)).Errno);
    }

    [Fact]
    public void Seals_on_an_fd_that_is_not_open_fail_with_EBADF()
    {
        using var bad = new SafeFd(int.MaxValue, ownsHandle: false);

        Assert.Equal(Errno.EBADF, Assert.Throws<ErrnoException>(() => Syscall.GetSeals(bad)).Errno);
        Assert.Equal(Errno.EBADF, Assert.Throws<ErrnoException>(() => Syscall.AddSeals(bad, SealFlags.Shrink)).Errno);
    }

    [Fact]
    public void Dup_gives_a_distinct_close_on_exec_fd_to_the_same_file()
    {
        string name = ProcSelf.UniqueName("dup");
        using SafeFd fd = Syscall.MemfdCreate(name, MemfdFlags.AllowSealing);

        using (SafeFd copy = Syscall.Dup(fd))
        {
            Assert.NotEqual(fd.Fd, copy.Fd);
            Assert.True(ProcSelf.FdIsMemfd(copy.Fd, name));
            Assert.Equal(FcntlCommand.FD_CLOEXEC, ProcSelf.FdFlags(copy));
            Assert.Equal(0, ProcSelf.FdFlags(fd));

            // Same open file: size and seals set through one fd are seen through the other.
            Syscall.Ftruncate(copy, 2 * Page);
            Syscall.AddSeals(copy, SealFlags.Grow);
            Assert.Equal(2 * Page, ProcSelf.FileSize(fd));
            Assert.Equal(SealFlags.Grow, Syscall.GetSeals(fd));
        }

        // Closing the copy leaves the original open.
        Assert.True(ProcSelf.FdIsMemfd(fd.Fd, name));
        Assert.Equal(2 * Page, ProcSelf.FileSize(fd));
    }

    [Fact]
    public void Dup_of_an_fd_that_is_not_open_fails_with_EBADF()
    {
        using var bad = new SafeFd(int.MaxValue, ownsHandle: false);

        var e = Assert.Throws<ErrnoException>(() => Syscall.Dup(bad));
        Assert.Equal((Errno.EBADF, "fcntl(F_DUPFD_CLOEXEC)"), (e.Errno, e.Call));
    }
}
