using DmaSg.Interop.Linux;
using DmaSg.Interop.Tests.Support;

namespace DmaSg.Interop.Tests.Syscalls;

public sealed class SocketpairTests
{
    [Fact]
    public void Pair_is_connected_both_ways_and_close_on_exec()
    {
        (SafeFd a, SafeFd b) = Syscall.UnixSocketPair(SocketType.SeqPacket | SocketType.Cloexec);
        using (a)
        using (b)
        {
            Assert.StartsWith("socket:[", ProcSelf.FdTarget(a.Fd));
            Assert.Equal(FcntlCommand.FD_CLOEXEC, ProcSelf.FdFlags(a));
            Assert.Equal(FcntlCommand.FD_CLOEXEC, ProcSelf.FdFlags(b));

            Assert.Equal(3, Syscall.SendMsg(a, "abc"u8, []));
            var buf = new byte[8];
            using (ReceivedMessage m = Syscall.RecvMsg(b, buf, 0))
            {
                Assert.Equal(3, m.Length);
                Assert.Equal("abc"u8.ToArray(), buf[..3]);
            }

            Assert.Equal(1, Syscall.SendMsg(b, "z"u8, []));
            using ReceivedMessage back = Syscall.RecvMsg(a, buf, 0);
            Assert.Equal(1, back.Length);
        }
    }

    [Fact]
    public void Unknown_type_is_EINVAL()
    {
        var e = Assert.Throws<ErrnoException>(() => Syscall.UnixSocketPair((SocketType)77));

        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Equal("socketpair(AF_UNIX)", e.Call);
    }
}
