using DmaSg.Interop.Linux;
using DmaSg.Interop.Tests.Support;

namespace DmaSg.Interop.Tests;

public sealed class SafeMappingTests
{
    private static readonly int Page = ProcSelf.PageSize;

    [Fact]
    public void Dispose_munmaps_the_range_and_a_second_dispose_is_harmless()
    {
        string name = ProcSelf.UniqueName("safemapping");
        using SafeFd fd = Syscall.MemfdCreate(name, MemfdFlags.Cloexec);
        Syscall.Ftruncate(fd, 2 * Page);
        SafeMapping map = Syscall.Mmap((nuint)(2 * Page), Protection.ReadWrite, MapFlags.Shared, fd, 0);
        (nint address, nuint length) = (map.Address, map.Length);
        MapsEntry before = Assert.Single(ProcSelf.MemfdMaps(name));
        Assert.Equal(((ulong)address, (ulong)address + length), (before.Start, before.End));

        map.Dispose();

        Assert.True(map.IsClosed);
        Assert.DoesNotContain(ProcSelf.MemfdMaps(name), m => m.Overlaps(address, length));
        map.Dispose();
        Assert.True(map.IsClosed);
    }

    [Fact]
    public void Dispose_of_a_reservation_also_unmaps_its_fixed_sub_mappings()
    {
        string name = ProcSelf.UniqueName("safemapping-reservation");
        using SafeFd fd = Syscall.MemfdCreate(name, MemfdFlags.Cloexec);
        Syscall.Ftruncate(fd, 2 * Page);
        SafeMapping reservation = Syscall.ReserveAddressSpace((nuint)(4 * Page));
        (nint address, nuint length) = (reservation.Address, reservation.Length);
        Syscall.MmapFixed(reservation, 0, (nuint)Page, Protection.ReadWrite, MapFlags.Shared, fd, Page);
        Syscall.MmapFixed(reservation, (nuint)(2 * Page), (nuint)Page, Protection.ReadWrite, MapFlags.Shared, fd, 0);
        Assert.Equal(2, ProcSelf.MemfdMaps(name).Count(m => m.Overlaps(address, length)));

        reservation.Dispose();

        Assert.DoesNotContain(ProcSelf.MemfdMaps(name), m => m.Overlaps(address, length));
    }

    [Fact]
    public void AsSpan_covers_the_whole_mapping()
    {
        using SafeMapping map = Syscall.Mmap((nuint)(3 * Page), Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, null, 0);

        Span<byte> span = map.AsSpan();

        Assert.Equal(3 * Page, span.Length);
        unsafe
        {
            fixed (byte* first = span)
            {
                Assert.Equal(map.Address, (nint)first);
            }
        }
    }

    [Fact]
    public void AsSpan_after_dispose_throws_instead_of_faulting()
    {
        SafeMapping map = Syscall.Mmap((nuint)Page, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, null, 0);
        map.Dispose();

        Assert.Throws<ObjectDisposedException>(() => map.AsSpan().Length);
    }

    [Fact]
    public void Mapping_is_page_aligned()
    {
        using SafeMapping map = Syscall.Mmap(1, Protection.Read, MapFlags.Private | MapFlags.Anonymous, null, 0);

        Assert.Equal(0, map.Address % Page);
        Assert.Equal((nuint)1, map.Length);
    }
}
