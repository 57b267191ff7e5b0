using System.Runtime.InteropServices;

namespace DmaSg.Interop.Linux;

/// <summary>Address families (linux/socket.h). Only AF_UNIX is used: fds travel over Unix sockets.</summary>
public static class SocketFamily
{
    public const int AF_UNIX = 1;
}

/// <summary>Socket types and the flags or-ed into them (asm-generic/socket.h, linux/net.h).</summary>
[Flags]
public enum SocketType
{
    Stream = 1,
    Datagram = 2,

    /// <summary>Reliable, ordered, with message boundaries: one sendmsg is one recvmsg, fds and all.</summary>
    SeqPacket = 5,
    NonBlock = 0x800,
    Cloexec = 0x80000,
}

/// <summary>MSG_* flags of sendmsg/recvmsg (linux/socket.h).</summary>
[Flags]
public enum MsgFlags
{
    None = 0,

    /// <summary>Control data (fds) did not fit the buffer; the kernel dropped the rest.</summary>
    ControlTruncated = 0x08,

    /// <summary>The message was longer than the data buffer (datagram and seqpacket sockets).</summary>
    Truncated = 0x20,
    DontWait = 0x40,

    /// <summary>No SIGPIPE when the peer has gone; EPIPE instead.</summary>
    NoSignal = 0x4000,

    /// <summary>Received fds get O_CLOEXEC atomically, so no child process inherits them.</summary>
    CmsgCloexec = 0x40000000,
}

/// <summary>Socket-level ancillary data (asm-generic/socket.h, linux/socket.h).</summary>
public static class SocketLevel
{
    public const int SOL_SOCKET = 1;

    /// <summary>Ancillary message type: an array of fds.</summary>
    public const int SCM_RIGHTS = 1;

    /// <summary>
    /// The kernel's cap on fds in one SCM_RIGHTS message (include/net/scm.h, not uapi): more is EINVAL.
    /// </summary>
    public const int ScmMaxFd = 253;
}

/// <summary>struct sockaddr_un (sys/un.h) as offsets: a 16-bit family, then a NUL-terminated path.</summary>
public static class SockaddrUn
{
    public const int PathOffset = 2;
    public const int PathLength = 108;
    public const int Size = PathOffset + PathLength;
}

/// <summary>struct iovec (sys/uio.h).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IoVec
{
    public nint Base;
    public nuint Length;
}

/// <summary>struct msghdr (sys/socket.h, glibc x86-64/arm64 layout: 56 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct MsgHdr
{
    public nint Name;
    public uint NameLength;
    public nint Iov;
    public nuint IovLength;
    public nint Control;
    public nuint ControlLength;
    public int Flags;
}

/// <summary>struct cmsghdr (sys/socket.h): 16 bytes; the data starts at CMSG_ALIGN(sizeof(cmsghdr)).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CmsgHdr
{
    public nuint Length;
    public int Level;
    public int Type;
}

/// <summary>The CMSG_* macros of sys/socket.h.</summary>
public static class Cmsg
{
    /// <summary>CMSG_ALIGN: rounds up to sizeof(size_t).</summary>
    public static int Align(int length) => (length + (nint.Size - 1)) & ~(nint.Size - 1);

    /// <summary>CMSG_LEN: header plus <paramref name="dataLength"/> bytes, the value of cmsg_len.</summary>
    public static int Len(int dataLength) => Align(Marshal.SizeOf<CmsgHdr>()) + dataLength;

    /// <summary>CMSG_SPACE: the bytes one message takes in the control buffer, padding included.</summary>
    public static int Space(int dataLength) => Align(Marshal.SizeOf<CmsgHdr>()) + Align(dataLength);

    /// <summary>Offset of the data after the header (CMSG_DATA - cmsg).</summary>
    public static int DataOffset => Align(Marshal.SizeOf<CmsgHdr>());
}

/// <summary>poll(2) events (asm-generic/poll.h).</summary>
[Flags]
public enum PollEvents : short
{
    None = 0,
    In = 0x001,
    Out = 0x004,
    Error = 0x008,
    HangUp = 0x010,
    Invalid = 0x020,
}

/// <summary>struct pollfd (asm-generic/poll.h).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct PollFd
{
    public int Fd;
    public short Events;
    public short ReturnedEvents;
}

/// <summary>lseek(2) whence (linux/fs.h).</summary>
public enum Whence
{
    Set = 0,
    Current = 1,
    End = 2,
}
