using System.Runtime.InteropServices;

namespace DmaSg.Interop.Linux;

/// <summary>struct udmabuf_create (linux/udmabuf.h): 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct UdmabufCreate
{
    public uint Memfd;
    public uint Flags;
    public ulong Offset;
    public ulong Size;
}

/// <summary>The header of struct udmabuf_create_list: 8 bytes, followed by <see cref="Count"/> items.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct UdmabufCreateListHeader
{
    public uint Flags;
    public uint Count;
}

/// <summary>struct udmabuf_create_item: 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct UdmabufCreateItem
{
    public uint Memfd;
    public uint Pad;
    public ulong Offset;
    public ulong Size;
}

/// <summary>linux/udmabuf.h</summary>
public static class Udmabuf
{
    public const uint FlagsCloexec = 0x01;

    /// <summary>UDMABUF_CREATE = _IOW('u', 0x42, struct udmabuf_create) = 0x40187542.</summary>
    public static readonly uint IoctlCreate = IoctlNumber.Iow('u', 0x42, (uint)Marshal.SizeOf<UdmabufCreate>());

    /// <summary>UDMABUF_CREATE_LIST = _IOW('u', 0x43, struct udmabuf_create_list) = 0x40087543 (header size only).</summary>
    public static readonly uint IoctlCreateList = IoctlNumber.Iow('u', 0x43, (uint)Marshal.SizeOf<UdmabufCreateListHeader>());

    public const string DevicePath = "/dev/udmabuf";

    /// <summary>The kernel's default module parameters (drivers/dma-buf/udmabuf.c).</summary>
    public const int DefaultListLimit = 1024;
    public const int DefaultSizeLimitMb = 64;
}
