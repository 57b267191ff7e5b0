using System.Runtime.InteropServices;
using DmaSg.Interop.Linux;

namespace DmaSg.Interop;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "recvmsg", SetLastError = true)]
    internal static unsafe partial nint Recvmsg(SafeFd fd, MsgHdr* msg, int flags);
}

/// <summary>
/// What one recvmsg(2) delivered: the data length (0 at end of stream), every fd that arrived (each
/// already owned by a handle, close-on-exec), and the kernel's MSG_* flags, e.g. MSG_CTRUNC when fds
/// did not fit and were dropped.
/// </summary>
public sealed class ReceivedMessage(int length, SafeFd[] fds, MsgFlags flags) : IDisposable
{
    public int Length { get; } = length;

    public IReadOnlyList<SafeFd> Fds { get; } = fds;

    public MsgFlags Flags { get; } = flags;

    /// <summary>Closes every received fd that nobody took over.</summary>
    public void Dispose()
    {
        foreach (SafeFd fd in Fds)
        {
            fd.Dispose();
        }
    }
}

public static partial class Syscall
{
    /// <summary>
    /// recvmsg(2) into <paramref name="data"/> with room for <paramref name="maxFds"/> SCM_RIGHTS fds (the
    /// control buffer is CMSG_SPACE of them, whose padding may fit one more; more than fit are dropped by
    /// the kernel with MSG_CTRUNC).
    /// MSG_CMSG_CLOEXEC is always added, so received fds are never inherited by a child. Every fd the
    /// kernel installed is wrapped in a handle before this returns, so none can leak.
    /// </summary>
    public static unsafe ReceivedMessage RecvMsg(SafeFd socket, Span<byte> data, int maxFds, MsgFlags flags = MsgFlags.None)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentOutOfRangeException.ThrowIfNegative(maxFds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxFds, SocketLevel.ScmMaxFd);
        int controlLength = maxFds == 0 ? 0 : Cmsg.Space(maxFds * sizeof(int));
        byte* control = stackalloc byte[Math.Max(controlLength, 1)];
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
            nint received = Interop.Recvmsg(socket, &msg, (int)(flags | MsgFlags.CmsgCloexec));
            if (received < 0)
            {
                throw ErrnoException.FromLastError("recvmsg");
            }

            return new ReceivedMessage((int)received, TakeFds(control, (int)msg.ControlLength), (MsgFlags)msg.Flags);
        }
    }

    // Walks the control messages (CMSG_FIRSTHDR/CMSG_NXTHDR) and wraps every SCM_RIGHTS fd.
    private static unsafe SafeFd[] TakeFds(byte* control, int length)
    {
        var fds = new List<SafeFd>();
        int offset = 0;
        int headerSize = Marshal.SizeOf<CmsgHdr>();
        while (offset + headerSize <= length)
        {
            var header = (CmsgHdr*)(control + offset);
            int cmsgLength = (int)header->Length;
            if (cmsgLength < headerSize || offset + cmsgLength > length)
            {
                break;
            }

            if (header->Level == SocketLevel.SOL_SOCKET && header->Type == SocketLevel.SCM_RIGHTS)
            {
                int count = (cmsgLength - Cmsg.DataOffset) / sizeof(int);
                var slots = (int*)(control + offset + Cmsg.DataOffset);
                for (int i = 0; i < count; i++)
                {
                    fds.Add(new SafeFd(slots[i], ownsHandle: true));
                }
            }

            offset += Cmsg.Align(cmsgLength);
        }

        return fds.ToArray();
    }
}
