using System.Text;
using DmaSg.Interop.Linux;

namespace DmaSg.Interop;

public static partial class Syscall
{
    /// <summary>
    /// DMA_BUF_SET_NAME: names a dmabuf for debugging; it shows as "name:" in /proc/PID/fdinfo/FD and in
    /// /sys/kernel/debug/dma_buf/bufinfo, which is how leaked buffers are found. At most
    /// <see cref="DmaBuf.NameLength"/> - 1 UTF-8 bytes (longer is refused here, as the kernel would
    /// with EINVAL). ENOTTY on an fd that is not a dmabuf.
    /// </summary>
    public static unsafe void DmaBufSetName(SafeFd dmabuf, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        int count = Encoding.UTF8.GetByteCount(name);
        if (count >= DmaBuf.NameLength || name.Contains('\0'))
        {
            throw new ArgumentException($"a dmabuf name has at most {DmaBuf.NameLength - 1} bytes and no NUL: \"{name}\"", nameof(name));
        }

        byte* bytes = stackalloc byte[DmaBuf.NameLength];
        new Span<byte>(bytes, DmaBuf.NameLength).Clear();
        Encoding.UTF8.GetBytes(name, new Span<byte>(bytes, DmaBuf.NameLength));
        Ioctl(dmabuf, DmaBuf.IoctlSetNameB, bytes, $"ioctl(DMA_BUF_SET_NAME, \"{name}\")");
    }
}
