using DmaSg.Interop.Linux;

namespace DmaSg.Interop.Tests.Syscalls;

public sealed class PollTests
{
    [Fact]
    public void Reports_readable_after_a_send_and_times_out_before()
    {
        (SafeFd a, SafeFd b) = Syscall.UnixSocketPair(SocketType.SeqPacket | SocketType.Cloexec);
        using (a)
        using (b)
        {
            Assert.Equal(PollEvents.None, Syscall.Poll(b, PollEvents.In, 10));
            Syscall.SendMsg(a, "x"u8, []);
            Assert.Equal(PollEvents.In, Syscall.Poll(b, PollEvents.In, 1000));
        }
    }

    [Fact]
    public void Closed_peer_reports_hang_up()
    {
        (SafeFd a, SafeFd b) = Syscall.UnixSocketPair(SocketType.SeqPacket | SocketType.Cloexec);
        using (a)
        {
            b.Dispose();
            Assert.True((Syscall.Poll(a, PollEvents.In, 1000) & PollEvents.HangUp) != 0);
        }
    }

    [Fact]
    public void Fd_that_is_not_open_reports_POLLNVAL()
    {
        using var bad = new SafeFd(int.MaxValue, ownsHandle: false);

        Assert.Equal(PollEvents.Invalid, Syscall.Poll(bad, PollEvents.In, 0));
    }
}
