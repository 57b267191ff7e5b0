using DmaSg.Interop.Linux;
using DmaSg.Interop.Tests.Support;

namespace DmaSg.Interop.Tests.Syscalls;

/// <summary>socket, bind, listen, accept4 and connect over a filesystem path.</summary>
public sealed class SocketTests
{
    private static string SocketPath() => Path.Combine(Path.GetTempPath(), $"dmasg-it-{Guid.NewGuid():N}.sock");

    [Fact]
    public void Listen_connect_accept_over_a_path_carries_messages()
    {
        string path = SocketPath();
        using SafeFd listener = Syscall.UnixSocket(SocketType.SeqPacket | SocketType.Cloexec);
        Syscall.BindUnix(listener, path);
        Syscall.Listen(listener, 4);
        try
        {
            Assert.True(File.Exists(path));
            using SafeFd client = Syscall.UnixSocket(SocketType.SeqPacket | SocketType.Cloexec);
            Syscall.ConnectUnix(client, path);
            Assert.Equal(PollEvents.In, Syscall.Poll(listener, PollEvents.In, 5000) & PollEvents.In);
            using SafeFd server = Syscall.Accept(listener);
            Assert.Equal(FcntlCommand.FD_CLOEXEC, ProcSelf.FdFlags(server));

            Syscall.SendMsg(client, "hello"u8, []);
            var buf = new byte[16];
            using ReceivedMessage m = Syscall.RecvMsg(server, buf, 0);
            Assert.Equal("hello"u8.ToArray(), buf[..m.Length]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Connect_to_a_path_nobody_listens_on_fails_naming_it()
    {
        string path = SocketPath();
        using SafeFd client = Syscall.UnixSocket(SocketType.SeqPacket | SocketType.Cloexec);

        var e = Assert.Throws<ErrnoException>(() => Syscall.ConnectUnix(client, path));

        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Contains(path, e.Call);
    }

    [Fact]
    public void Bind_to_an_existing_path_fails_and_creates_nothing_else()
    {
        string path = SocketPath();
        using SafeFd first = Syscall.UnixSocket(SocketType.SeqPacket | SocketType.Cloexec);
        using SafeFd second = Syscall.UnixSocket(SocketType.SeqPacket | SocketType.Cloexec);
        Syscall.BindUnix(first, path);
        try
        {
            var e = Assert.Throws<ErrnoException>(() => Syscall.BindUnix(second, path));
            Assert.Equal(98, e.Errno); // EADDRINUSE
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("\0abstract")]
    public void Empty_or_abstract_paths_are_refused_before_the_call(string path)
    {
        using SafeFd s = Syscall.UnixSocket(SocketType.SeqPacket | SocketType.Cloexec);

        Assert.Throws<ArgumentException>(() => Syscall.BindUnix(s, path));
    }

    [Fact]
    public void Path_longer_than_sun_path_is_refused_and_107_bytes_fit()
    {
        using SafeFd s = Syscall.UnixSocket(SocketType.SeqPacket | SocketType.Cloexec);
        string dir = Path.GetTempPath();
        string tooLong = dir + new string('x', SockaddrUn.PathLength - dir.Length);

        Assert.Throws<ArgumentException>(() => Syscall.ConnectUnix(s, tooLong));
        var e = Assert.Throws<ErrnoException>(() => Syscall.ConnectUnix(s, tooLong[..^1]));
        Assert.Equal(Errno.ENOENT, e.Errno);
    }

    [Fact]
    public void Accept_on_a_socket_that_does_not_listen_is_EINVAL()
    {
        using SafeFd s = Syscall.UnixSocket(SocketType.SeqPacket | SocketType.Cloexec);

        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => Syscall.Accept(s)).Errno);
    }
}
