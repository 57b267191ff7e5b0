using System.Runtime.InteropServices;
using DmaSg.Interop.Linux;

namespace DmaSg.Interop;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "sendmsg", SetLastError = true)]
    internal static unsafe partial nint Sendmsg(SafeFd fd, MsgHdr* msg, int flags);
}

public static partial class Syscall
{
    /// <summary>
    /// sendmsg(2) of <paramref name="data"/> with <paramref name="fds"/> as one SCM_RIGHTS message. The
    /// receiver gets its own fds for the same open files; ours stay open. Returns the bytes sent. At
    /// least one data byte must go with fds (a stream socket drops fds sent with no data), and at most
    /// <see cref="SocketLevel.ScmMaxFd"/> fds go in one message.
    /// </summary>
    public static unsafe int SendMsg(SafeFd socket, ReadOnlySpan<byte> data, ReadOnlySpan<SafeFd> fds, MsgFlags flags = MsgFlags.NoSignal)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (fds.Length > SocketLevel.ScmMaxFd)
        {
            throw new ArgumentOutOfRangeException(nameof(fds), fds.Length, $"at most {SocketLevel.ScmMaxFd} fds go in one SCM_RIGHTS message");
        }

        if (fds.Length > 0 && data.IsEmpty)
        {
            throw new ArgumentException("fds need at least one byte of data to travel with", nameof(data));
        }

        int controlLength = fds.Length == 0 ? 0 : Cmsg.Space(fds.Length * sizeof(int));
        byte* control = stackalloc byte[Math.Max(controlLength, 1)];
        new Span<byte>(control, controlLength).Clear();
        var added = new bool[fds.Length];
        try
        {
            if (fds.Length > 0)
            {
                var header = (CmsgHdr*)control;
                header->Length = (nuint)Cmsg.Len(fds.Length * sizeof(int));
                header->Level = SocketLevel.SOL_SOCKET;
                header->Type = SocketLevel.SCM_RIGHTS;
                var slots = (int*)(control + Cmsg.DataOffset);
                for (int i = 0; i < fds.Length; i++)
                {
                    ArgumentNullException.ThrowIfNull(fds[i], nameof(fds));
                    fds[i].DangerousAddRef(ref added[i]);
                    slots[i] = fds[i].Fd;
                }
            }

            fixed (byte* p = data)
            {
                var iov = new IoVec { Base = (nint)p, Length = (nuint)data.Length };
                var msg = new MsgHdr
                {
                    Iov = (nint)(&iov),
                    IovLength = 1,
                    Control = controlLength == 0 ? 0 : (nint)control,
                    ControlLength = (nuint)controlLength,
                };
                nint sent = Interop.Sendmsg(socket, &msg, (int)flags);
                if (sent < 0)
                {
                    throw ErrnoException.FromLastError("sendmsg");
                }

                return (int)sent;
            }
        }
        finally
        {
            for (int i = 0; i < added.Length; i++)
            {
                if (added[i])
                {
                    fds[i].DangerousRelease();
                }
            }
        }
    }
}
