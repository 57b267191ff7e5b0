using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using DmaSg.Interop;
using DmaSg.Interop.Linux;

namespace DmaSg.Memory.Backends;

/// <summary>
/// A connected AF_UNIX SOCK_SEQPACKET socket that carries fds with SCM_RIGHTS: one send is one message,
/// fds included, so a buffer and its description always arrive together. Received fds are close-on-exec
/// and owned by handles the moment they arrive; a malformed message closes them all and fails with
/// InvalidArgument, so a bad peer cannot make us leak fds. Not thread-safe: one owner.
/// </summary>
public sealed class FdChannel : IDisposable
{
    /// <summary>The largest message <see cref="Receive"/> accepts by default.</summary>
    public const int MaxMessage = 4096;

    private const uint BufferMagic = 0x42475344; // "DSGB"
    private const byte BufferVersion = 1;
    private const int BufferHeader = 16;
    private const int MaxNameBytes = 256;

    private FdChannel(SafeFd socket) => Socket = socket;

    /// <summary>The socket; disposing the channel closes it.</summary>
    public SafeFd Socket { get; }

    /// <summary>Two connected channels (socketpair), e.g. for a thread or a child that inherits one.</summary>
    public static (FdChannel First, FdChannel Second) CreatePair()
    {
        (SafeFd a, SafeFd b) = Syscall.UnixSocketPair(SocketType.SeqPacket | SocketType.Cloexec);
        return (new FdChannel(a), new FdChannel(b));
    }

    /// <summary>Connects to a <see cref="FdListener"/> at <paramref name="path"/>.</summary>
    public static FdChannel Connect(string path)
    {
        SafeFd socket = Syscall.UnixSocket(SocketType.SeqPacket | SocketType.Cloexec);
        try
        {
            Retry(() => Syscall.ConnectUnix(socket, path));
            return new FdChannel(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    internal static FdChannel Adopt(SafeFd socket) => new(socket);

    /// <summary>Sends <paramref name="message"/> (at least one byte) with <paramref name="fds"/>; our fds stay open.</summary>
    public void Send(ReadOnlySpan<byte> message, ReadOnlySpan<SafeFd> fds = default)
    {
        if (message.IsEmpty)
        {
            throw new ArgumentException("a message has at least one byte", nameof(message));
        }

        int sent = -1;
        for (int attempt = 0; sent < 0; attempt++)
        {
            try
            {
                sent = Syscall.SendMsg(Socket, message, fds);
            }
            catch (ErrnoException e) when (e.Errno == Errno.EINTR && attempt < 100)
            {
                // A signal interrupted the call before anything was sent: send again.
            }
        }
        if (sent != message.Length)
        {
            throw new DmaSgException(DmaSgError.Io, $"sendmsg sent {sent} of {message.Length} bytes");
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for one message into <paramref name="buffer"/> with at most
    /// <paramref name="maxFds"/> fds. A message cut short (data or fds) is refused: its fds are closed and
    /// InvalidArgument thrown. TimeoutException when nothing came; Io when the peer has closed.
    /// </summary>
    public ReceivedMessage Receive(Span<byte> buffer, TimeSpan timeout, int maxFds = 1)
    {
        WaitReadable(timeout);
        ReceivedMessage? msg = null;
        while (msg is null)
        {
            try
            {
                msg = Syscall.RecvMsg(Socket, buffer, maxFds);
            }
            catch (ErrnoException e) when (e.Errno is Errno.EINTR or Errno.EAGAIN)
            {
                WaitReadable(timeout);
            }
        }

        if ((msg.Flags & (MsgFlags.Truncated | MsgFlags.ControlTruncated)) != 0)
        {
            msg.Dispose();
            throw new DmaSgException(DmaSgError.InvalidArgument, $"message truncated ({msg.Flags}): more than {buffer.Length} bytes or {maxFds} fds; received fds closed");
        }

        if (msg.Length == 0 && msg.Fds.Count == 0)
        {
            msg.Dispose();
            throw new DmaSgException(DmaSgError.Io, "the peer closed the channel");
        }

        return msg;
    }

    /// <summary>Sends an exported buffer: its fd plus kind, size and name in the same message. Our fd stays open.</summary>
    public void SendBuffer(ExportedBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        byte[] name = Encoding.UTF8.GetBytes(buffer.Name);
        if (name.Length > MaxNameBytes)
        {
            name = name[..MaxNameBytes];
        }

        var message = new byte[BufferHeader + name.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(message, BufferMagic);
        message[4] = BufferVersion;
        message[5] = (byte)buffer.Kind;
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(6), (ushort)name.Length);
        BinaryPrimitives.WriteInt64LittleEndian(message.AsSpan(8), buffer.Size);
        name.CopyTo(message, BufferHeader);
        Send(message, [buffer.Fd]);
    }

    /// <summary>
    /// Receives a buffer sent with <see cref="SendBuffer"/>. The fd's real size must match the declared one
    /// (see <see cref="ExportedBuffer.Adopt"/>); anything malformed closes every received fd and throws InvalidArgument.
    /// </summary>
    public ExportedBuffer ReceiveBuffer(TimeSpan timeout)
    {
        var buffer = new byte[BufferHeader + MaxNameBytes];
        ReceivedMessage msg = Receive(buffer, timeout, maxFds: 1);
        try
        {
            ReadOnlySpan<byte> m = buffer.AsSpan(0, msg.Length);
            if (m.Length < BufferHeader || BinaryPrimitives.ReadUInt32LittleEndian(m) != BufferMagic || m[4] != BufferVersion)
            {
                throw new DmaSgException(DmaSgError.InvalidArgument, $"not a buffer message ({m.Length} bytes)");
            }

            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(m[6..]);
            if (BufferHeader + nameLength != m.Length)
            {
                throw new DmaSgException(DmaSgError.InvalidArgument, $"buffer message of {m.Length} bytes declares a {nameLength}-byte name");
            }

            if (msg.Fds.Count != 1)
            {
                throw new DmaSgException(DmaSgError.InvalidArgument, $"a buffer message carries exactly one fd, not {msg.Fds.Count}");
            }

            var kind = (ExportKind)m[5];
            long size = BinaryPrimitives.ReadInt64LittleEndian(m[8..]);
            string name = Encoding.UTF8.GetString(m.Slice(BufferHeader, nameLength));

            // Adopt owns the fd from here on, closing it itself if it refuses it.
            SafeFd fd = msg.Fds[0];
            return ExportedBuffer.Adopt(fd, kind, size, name);
        }
        catch
        {
            msg.Dispose();
            throw;
        }
    }

    public void Dispose() => Socket.Dispose();

    internal static void Retry(Action call)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                call();
                return;
            }
            catch (ErrnoException e) when (e.Errno == Errno.EINTR && attempt < 100)
            {
                // A signal (the runtime uses some) interrupted the call before it did anything: do it again.
            }
        }
    }

    internal static void WaitReadable(SafeFd socket, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            long left = timeout == Timeout.InfiniteTimeSpan ? -1 : Math.Max(0, (long)(timeout - clock.Elapsed).TotalMilliseconds);
            PollEvents events;
            try
            {
                events = Syscall.Poll(socket, PollEvents.In, (int)Math.Min(left, int.MaxValue));
            }
            catch (ErrnoException e) when (e.Errno == Errno.EINTR)
            {
                continue;
            }

            if (events != PollEvents.None)
            {
                return;
            }

            if (left == 0 || clock.Elapsed >= timeout)
            {
                throw new TimeoutException($"nothing to {what} within {timeout.TotalSeconds:0.###} s");
            }
        }
    }

    private void WaitReadable(TimeSpan timeout) => WaitReadable(Socket, timeout, "receive");
}

/// <summary>
/// A listening Unix socket at a filesystem path; <see cref="Accept"/> gives one <see cref="FdChannel"/> per
/// peer. Disposing closes the socket and removes the path.
/// </summary>
public sealed class FdListener : IDisposable
{
    private readonly SafeFd _socket;

    private FdListener(SafeFd socket, string path)
    {
        _socket = socket;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Listens at <paramref name="path"/> (which must not exist: a stale socket file is the caller's to remove).</summary>
    public static FdListener Listen(string path, int backlog = 8)
    {
        SafeFd socket = Syscall.UnixSocket(SocketType.SeqPacket | SocketType.Cloexec);
        try
        {
            Syscall.BindUnix(socket, path);
            Syscall.Listen(socket, backlog);
            return new FdListener(socket, path);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a peer; TimeoutException when none came.</summary>
    public FdChannel Accept(TimeSpan timeout)
    {
        SafeFd? peer = null;
        while (peer is null)
        {
            FdChannel.WaitReadable(_socket, timeout, "accept");
            try
            {
                peer = Syscall.Accept(_socket, SocketType.Cloexec);
            }
            catch (ErrnoException e) when (e.Errno is Errno.EINTR or Errno.EAGAIN)
            {
                // Interrupted, or the peer went away between poll and accept: wait again.
            }
        }

        return FdChannel.Adopt(peer);
    }

    public void Dispose()
    {
        _socket.Dispose();
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
            // Already gone; nothing to clean.
        }
    }
}
