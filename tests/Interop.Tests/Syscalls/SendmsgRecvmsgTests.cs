using DmaSg.Interop.Linux;
using DmaSg.Interop.Tests.Support;

namespace DmaSg.Interop.Tests.Syscalls;

/// <summary>SCM_RIGHTS: fds cross a socket as new fds for the same open files, and none leak on the way.</summary>
public sealed class SendmsgRecvmsgTests
{
    private static (SafeFd A, SafeFd B) Pair() => Syscall.UnixSocketPair(SocketType.SeqPacket | SocketType.Cloexec);

    [Fact]
    public void Fds_arrive_as_new_close_on_exec_fds_for_the_same_files()
    {
        (SafeFd a, SafeFd b) = Pair();
        using (a)
        using (b)
        {
            string n1 = ProcSelf.UniqueName("scm1"), n2 = ProcSelf.UniqueName("scm2");
            using SafeFd m1 = Syscall.MemfdCreate(n1, MemfdFlags.None);
            using SafeFd m2 = Syscall.MemfdCreate(n2, MemfdFlags.None);
            Syscall.Ftruncate(m1, 4096);

            Assert.Equal(2, Syscall.SendMsg(a, "fd"u8, [m1, m2]));
            var buf = new byte[8];
            using ReceivedMessage msg = Syscall.RecvMsg(b, buf, maxFds: 4);

            Assert.Equal(2, msg.Length);
            Assert.Equal(MsgFlags.None, msg.Flags & (MsgFlags.ControlTruncated | MsgFlags.Truncated));
            Assert.Equal(2, msg.Fds.Count);
            Assert.NotEqual(m1.Fd, msg.Fds[0].Fd);
            Assert.True(ProcSelf.FdIsMemfd(msg.Fds[0].Fd, n1));
            Assert.True(ProcSelf.FdIsMemfd(msg.Fds[1].Fd, n2));
            Assert.Equal(FcntlCommand.FD_CLOEXEC, ProcSelf.FdFlags(msg.Fds[0]));
            Assert.Equal(4096, ProcSelf.FileSize(msg.Fds[0]));

            // Our fds stay open and usable after the send.
            Assert.True(ProcSelf.FdIsMemfd(m1.Fd, n1));
        }
    }

    [Fact]
    public void Fds_that_do_not_fit_are_dropped_with_MSG_CTRUNC_and_the_ones_that_fit_are_owned()
    {
        (SafeFd a, SafeFd b) = Pair();
        using (a)
        using (b)
        {
            string name = ProcSelf.UniqueName("ctrunc");
            using SafeFd m = Syscall.MemfdCreate(name, MemfdFlags.None);
            Syscall.SendMsg(a, "x"u8, [m, m, m, m, m]);

            var buf = new byte[4];
            ReceivedMessage msg = Syscall.RecvMsg(b, buf, maxFds: 1);

            // CMSG_SPACE pads room for one int to 8 bytes, so two of the five fit; the rest are dropped.
            Assert.True((msg.Flags & MsgFlags.ControlTruncated) != 0);
            Assert.Equal(2, msg.Fds.Count);
            int[] received = msg.Fds.Select(f => f.Fd).ToArray();
            Assert.All(received, fd => Assert.True(ProcSelf.FdIsMemfd(fd, name)));
            msg.Dispose();
            Assert.All(received, fd => Assert.False(ProcSelf.FdIsMemfd(fd, name)));
        }
    }

    [Fact]
    public void Data_longer_than_the_buffer_is_cut_with_MSG_TRUNC()
    {
        (SafeFd a, SafeFd b) = Pair();
        using (a)
        using (b)
        {
            Syscall.SendMsg(a, "0123456789"u8, []);
            var buf = new byte[4];
            using ReceivedMessage msg = Syscall.RecvMsg(b, buf, 0);

            Assert.Equal(4, msg.Length);
            Assert.True((msg.Flags & MsgFlags.Truncated) != 0);
        }
    }

    [Fact]
    public void Closed_peer_reads_as_zero_bytes_and_send_is_EPIPE_without_a_signal()
    {
        (SafeFd a, SafeFd b) = Pair();
        using (a)
        {
            b.Dispose();
            var buf = new byte[4];
            using (ReceivedMessage msg = Syscall.RecvMsg(a, buf, 1))
            {
                Assert.Equal(0, msg.Length);
                Assert.Empty(msg.Fds);
            }

            Assert.Equal(Errno.EPIPE, Assert.Throws<ErrnoException>(() => Syscall.SendMsg(a, "x"u8, [])).Errno);
        }
    }

    [Fact]
    public void Bad_arguments_are_refused_before_the_call()
    {
        (SafeFd a, SafeFd b) = Pair();
        using (a)
        using (b)
        {
            using SafeFd m = Syscall.MemfdCreate(ProcSelf.UniqueName("args"), MemfdFlags.None);
            Assert.Throws<ArgumentException>(() => Syscall.SendMsg(a, ReadOnlySpan<byte>.Empty, [m]));
            Assert.Throws<ArgumentOutOfRangeException>(() => Syscall.SendMsg(a, "x"u8, Enumerable.Repeat(m, SocketLevel.ScmMaxFd + 1).ToArray()));
            Assert.Throws<ArgumentOutOfRangeException>(() => Syscall.RecvMsg(b, new byte[1], -1));
            Assert.Equal(PollEvents.None, Syscall.Poll(b, PollEvents.In, 0));
        }
    }

    [Fact]
    public void Sending_a_closed_fd_throws_and_sends_nothing()
    {
        (SafeFd a, SafeFd b) = Pair();
        using (a)
        using (b)
        {
            SafeFd m = Syscall.MemfdCreate(ProcSelf.UniqueName("closed"), MemfdFlags.None);
            m.Dispose();

            Assert.Throws<ObjectDisposedException>(() => Syscall.SendMsg(a, "x"u8, [m]));
            Assert.Equal(PollEvents.None, Syscall.Poll(b, PollEvents.In, 0));
        }
    }

    [Fact]
    public void The_most_fds_one_message_carries_all_arrive()
    {
        (SafeFd a, SafeFd b) = Pair();
        using (a)
        using (b)
        {
            using SafeFd m = Syscall.MemfdCreate(ProcSelf.UniqueName("max"), MemfdFlags.None);
            Syscall.SendMsg(a, "x"u8, Enumerable.Repeat(m, SocketLevel.ScmMaxFd).ToArray());

            using ReceivedMessage msg = Syscall.RecvMsg(b, new byte[1], SocketLevel.ScmMaxFd);

            Assert.Equal(SocketLevel.ScmMaxFd, msg.Fds.Count);
            Assert.Equal(SocketLevel.ScmMaxFd, msg.Fds.Select(f => f.Fd).Distinct().Count());
        }
    }
}
