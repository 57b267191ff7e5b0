using DmaSg.Interop.Linux;
using DmaSg.Interop.Tests.Support;

namespace DmaSg.Interop.Tests;

public sealed class SafeFdTests
{
    [Fact]
    public void Dispose_closes_the_fd_and_a_second_dispose_is_harmless()
    {
        string name = ProcSelf.UniqueName("safefd");
        SafeFd fd = Syscall.MemfdCreate(name, MemfdFlags.Cloexec);
        int number = fd.Fd;
        Assert.True(ProcSelf.FdIsMemfd(number, name));

        fd.Dispose();

        // Another thread may reuse the number at once, so check that it no longer names this memfd.
        Assert.True(fd.IsClosed);
        Assert.False(ProcSelf.FdIsMemfd(number, name));
        fd.Dispose();
        Assert.True(fd.IsClosed);
    }

    [Fact]
    public void Dispose_of_a_non_owning_handle_leaves_the_fd_open()
    {
        string name = ProcSelf.UniqueName("safefd-borrowed");
        using SafeFd owner = Syscall.MemfdCreate(name, MemfdFlags.Cloexec);

        var borrowed = new SafeFd(owner.Fd, ownsHandle: false);
        Assert.Equal(owner.Fd, borrowed.Fd);
        borrowed.Dispose();

        Assert.True(ProcSelf.FdIsMemfd(owner.Fd, name));
        Assert.Equal(SealFlags.Seal, Syscall.GetSeals(owner));
    }

    [Fact]
    public void Owning_wrapper_of_a_raw_fd_closes_it()
    {
        string name = ProcSelf.UniqueName("safefd-adopt");
        using SafeFd original = Syscall.MemfdCreate(name, MemfdFlags.None);
        int raw = Interop.Fcntl(original, FcntlCommand.F_DUPFD_CLOEXEC, 0);
        Assert.True(raw >= 0);

        using (var adopted = new SafeFd(raw, ownsHandle: true))
        {
            Assert.True(ProcSelf.FdIsMemfd(raw, name));
        }

        Assert.False(ProcSelf.FdIsMemfd(raw, name));
        Assert.True(ProcSelf.FdIsMemfd(original.Fd, name));
    }

    [Theory]
    [InlineData(-1, true)]
    [InlineData(int.MinValue, true)]
    [InlineData(0, false)]
    [InlineData(int.MaxValue, false)]
    public void Negative_numbers_are_invalid(int number, bool invalid)
    {
        using var fd = new SafeFd(number, ownsHandle: false);

        Assert.Equal(invalid, fd.IsInvalid);
        Assert.Equal(number, fd.Fd);
    }

    [Fact]
    public void Default_instance_is_invalid()
    {
        using var fd = new SafeFd();

        Assert.True(fd.IsInvalid);
        Assert.Equal(-1, fd.Fd);
    }
}
