using DmaSg.Interop.Linux;
using DmaSg.Interop.Tests.Support;

namespace DmaSg.Interop.Tests.Syscalls;

public sealed class LseekTests
{
    [Fact]
    public void Seek_end_reports_the_size_and_seek_set_goes_back()
    {
        using SafeFd fd = Syscall.MemfdCreate(ProcSelf.UniqueName("lseek"), MemfdFlags.Cloexec);
        Syscall.Ftruncate(fd, 12345);

        Assert.Equal(12345, Syscall.SizeOfFd(fd));
        Assert.Equal(0, Syscall.Lseek(fd, 0, Whence.Set));
        Assert.Equal(7, Syscall.Lseek(fd, 7, Whence.Current));
    }

    [Fact]
    public void Seek_on_a_socket_is_ESPIPE()
    {
        (SafeFd a, SafeFd b) = Syscall.UnixSocketPair(SocketType.Stream | SocketType.Cloexec);
        using (a)
        using (b)
        {
            Assert.Equal(Errno.ESPIPE, Assert.Throws<ErrnoException>(() => Syscall.SizeOfFd(a)).Errno);
        }
    }
}
