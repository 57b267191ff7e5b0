using System.Runtime.InteropServices;
using DmaSg.Interop.Linux;

namespace DmaSg.Interop;

/// <summary>One udmabuf item: a page-aligned byte range of the memfd.</summary>
public readonly record struct UdmabufRange(ulong Offset, ulong Size);

public static partial class Syscall
{
    /// <summary>
    /// UDMABUF_CREATE_LIST on an open /dev/udmabuf: one dmabuf made of <paramref name="ranges"/> of
    /// <paramref name="memfd"/>, in order, returned as its own fd. The kernel pins the memfd's pages, so
    /// the dmabuf keeps them even if the memfd is closed. EINVAL for an unaligned range, a memfd without
    /// F_SEAL_SHRINK or with F_SEAL_WRITE, more ranges than udmabuf.list_limit, or more bytes than
    /// udmabuf.size_limit_mb; EBADFD for an fd that is not a memfd; ENOTTY when <paramref name="device"/>
    /// is not /dev/udmabuf.
    /// </summary>
    public static unsafe SafeFd UdmabufCreateList(SafeFd device, SafeFd memfd, ReadOnlySpan<UdmabufRange> ranges, bool cloexec = true)
    {
        ArgumentNullException.ThrowIfNull(memfd);
        int headerSize = Marshal.SizeOf<UdmabufCreateListHeader>();
        int itemSize = Marshal.SizeOf<UdmabufCreateItem>();
        int total = checked(headerSize + (ranges.Length * itemSize));
        byte* buffer = (byte*)NativeMemory.AllocZeroed((nuint)total);
        bool added = false;
        try
        {
            memfd.DangerousAddRef(ref added);
            *(UdmabufCreateListHeader*)buffer = new UdmabufCreateListHeader
            {
                Flags = cloexec ? Udmabuf.FlagsCloexec : 0,
                Count = (uint)ranges.Length,
            };
            var items = (UdmabufCreateItem*)(buffer + headerSize);
            for (int i = 0; i < ranges.Length; i++)
            {
                items[i] = new UdmabufCreateItem { Memfd = (uint)memfd.Fd, Offset = ranges[i].Offset, Size = ranges[i].Size };
            }

            int fd = Ioctl(device, Udmabuf.IoctlCreateList, buffer, $"ioctl(UDMABUF_CREATE_LIST, {ranges.Length} items)");
            return new SafeFd(fd, ownsHandle: true);
        }
        finally
        {
            if (added)
            {
                memfd.DangerousRelease();
            }

            NativeMemory.Free(buffer);
        }
    }
}
