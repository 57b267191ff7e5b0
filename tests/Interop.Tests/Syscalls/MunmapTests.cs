using DmaSg.Interop.Linux;
using DmaSg.Interop.Tests.Support;

namespace DmaSg.Interop.Tests.Syscalls;

public sealed class MunmapTests
{
    private static readonly int Page = ProcSelf.PageSize;

    [Fact]
    public void Munmap_removes_the_range_from_the_address_space()
    {
        string name = ProcSelf.UniqueName("munmap");
        using SafeFd fd = Syscall.MemfdCreate(name, MemfdFlags.Cloexec);
        Syscall.Ftruncate(fd, 2 * Page);
        SafeMapping map = Syscall.Mmap((nuint)(2 * Page), Protection.ReadWrite, MapFlags.Shared, fd, 0);
        (nint address, nuint length) = (map.Address, map.Length);
        // Take ownership of the range away from the handle so the raw munmap is the only one.
        map.SetHandleAsInvalid();
        Assert.Single(ProcSelf.MemfdMaps(name), m => m.Contains(address, length));

        Syscall.Munmap(address, length);

        Assert.DoesNotContain(ProcSelf.MemfdMaps(name), m => m.Overlaps(address, length));
    }

    [Fact]
    public void Munmap_of_part_of_a_mapping_leaves_the_rest()
    {
        string name = ProcSelf.UniqueName("munmap-part");
        using SafeFd fd = Syscall.MemfdCreate(name, MemfdFlags.Cloexec);
        Syscall.Ftruncate(fd, 3 * Page);
        SafeMapping map = Syscall.Mmap((nuint)(3 * Page), Protection.ReadWrite, MapFlags.Shared, fd, 0);
        (nint address, nuint length) = (map.Address, map.Length);
        map.SetHandleAsInvalid();

        Syscall.Munmap(address + Page, (nuint)Page);

        var left = ProcSelf.MemfdMaps(name).Where(m => m.Overlaps(address, length)).OrderBy(m => m.Start).ToList();
        Assert.Equal(2, left.Count);
        Assert.Equal(((ulong)address, (ulong)(address + Page)), (left[0].Start, left[0].End));
        Assert.Equal(((ulong)(address + 2 * Page), (ulong)(address + 3 * Page)), (left[1].Start, left[1].End));

        Syscall.Munmap(address, length);
        Assert.DoesNotContain(ProcSelf.MemfdMaps(name), m => m.Overlaps(address, length));
    }

    [Fact]
    public void Unaligned_address_fails_with_EINVAL()
    {
        using SafeMapping map = Syscall.Mmap((nuint)Page, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, null, 0);

        var e = Assert.Throws<ErrnoException>(() => Syscall.Munmap(map.Address + 1, (nuint)Page));
        Assert.Equal((Errno.EINVAL, "munmap"), (e.Errno, e.Call));
    }

    [Fact]
    public void Zero_length_fails_with_EINVAL()
    {
        using SafeMapping map = Syscall.Mmap((nuint)Page, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, null, 0);

        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => Syscall.Munmap(map.Address, 0)).Errno);
    }
}
