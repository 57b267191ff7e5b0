using DmaSg.Interop;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Buffers;
using DmaSg.Memory.Dma;
using DmaSg.Memory.Tests.Backends;

namespace DmaSg.Memory.Tests.Buffers;

/// <summary>
/// SgBuffer.FromDmabuf, the dma-heap backend's buffer, over an fd-backed buffer this machine can make (a sealed
/// memfd from MemfdProvider; tests/Kernel.Tests runs it over real heap dmabufs): one CPU range, mapped for the
/// device, vaddr/kmap/mmap of the fd's memory, and the fd closed exactly when the buffer is freed.
/// </summary>
[Collection(FdTableCollection.Name)]
public sealed class SgBufferDmabufTests
{
    private static readonly int PageSize = Environment.SystemPageSize;

    [Theory]
    [MemberData(nameof(TestDevices.Kinds), MemberType = typeof(TestDevices))]
    public void A_dmabuf_buffer_is_one_cpu_range_that_devices_and_mappings_share(string kind)
    {
        var fds = BackendTestSupport.OurFds();
        using var device = TestDevices.Create(kind);
        using var memfd = new MemfdProvider();
        ExportedBuffer fd = memfd.Allocate(5L * PageSize, "as-dmabuf");
        var buf = SgBuffer.FromDmabuf(fd, device, DmaDirection.Bidirectional, "heap#1");

        Assert.Same(fd, buf.Dmabuf);
        Assert.False(buf.IsUserptr);
        Assert.Equal(5, buf.NumPages);
        Assert.Equal(5L * PageSize, buf.Size);
        Assert.True(buf.Pages.IsEmpty);
        Assert.Equal(buf.Vaddr(), buf.SgTable.Entries[0].Cpu);
        Assert.Equal(buf.Vaddr() + (2 * PageSize), buf.Kmap(2));
        Assert.Equal(1, device.LiveMappings);

        // A device write, finish, and the CPU (vaddr, a user mmap of the fd, CopyToCpu) sees it.
        byte[] frame = BufferTestArena.Pattern((int)buf.Size, seed: 3);
        buf.Prepare();
        SgBufferDeviceTests.DeviceWrite(device, buf, frame);
        buf.Finish();
        var back = new byte[frame.Length];
        buf.CopyToCpu(0, back);
        Assert.Equal(frame, back);
        using (UserMapping user = buf.Mmap(2L * PageSize))
        {
            Assert.Equal(2, buf.NumUsers);
            Assert.Equal(frame.AsSpan(0, 2 * PageSize).ToArray(), user.AsSpan().ToArray());
            user.AsSpan()[0] = 0x5a;
        }

        using (SafeMapping other = fd.Map())
        {
            Assert.Equal(0x5a, other.AsSpan()[0]);
        }

        Assert.True(buf.Put());
        Assert.Equal(0, device.RefCount);
        Assert.Equal(0, device.LiveMappings);
        Assert.Throws<ObjectDisposedException>(() => fd.Fd);
        Assert.Equal(fds, BackendTestSupport.OurFds());
    }

    [Fact]
    public void A_bad_request_closes_the_fd_it_was_given_and_leaves_the_device_alone()
    {
        var fds = BackendTestSupport.OurFds();
        using var device = TestDevices.Coherent();
        using var memfd = new MemfdProvider();

        ExportedBuffer fd = memfd.Allocate(PageSize, "bad-dir");
        var e = Assert.Throws<DmaSgException>(() => SgBuffer.FromDmabuf(fd, device, DmaDirection.None, "bad"));
        Assert.Equal(DmaSgError.InvalidArgument, e.Error);
        Assert.Throws<ObjectDisposedException>(() => fd.Fd);

        device.Remove();
        ExportedBuffer fd2 = memfd.Allocate(PageSize, "gone-device");
        e = Assert.Throws<DmaSgException>(() => SgBuffer.FromDmabuf(fd2, device, DmaDirection.ToDevice, "gone"));
        Assert.Equal(DmaSgError.DeviceGone, e.Error);
        Assert.Throws<ObjectDisposedException>(() => fd2.Fd);

        Assert.Equal(0, device.RefCount);
        Assert.Equal(fds, BackendTestSupport.OurFds());
    }

    [Fact]
    public void Its_export_is_a_dup_of_the_same_memory()
    {
        using var device = TestDevices.Coherent();
        using var memfd = new MemfdProvider();
        var buf = SgBuffer.FromDmabuf(memfd.Allocate(2L * PageSize, "dup-export"), device, DmaDirection.FromDevice, "heap#2");
        using (var export = BufferExport.OfDmabuf(buf.Dmabuf!, DmaDirection.FromDevice, "dup-export"))
        {
            Assert.True(export.IsZeroCopy);
            Assert.NotEqual(buf.Dmabuf!.Fd.Fd, export.Buffer.Fd.Fd);
            using SafeMapping map = export.Buffer.Map();
            map.AsSpan()[PageSize] = 0x77;
            export.Finish();
            var one = new byte[1];
            buf.CopyToCpu(PageSize, one);
            Assert.Equal(0x77, one[0]);
        }

        Assert.True(buf.Put());
    }
}
