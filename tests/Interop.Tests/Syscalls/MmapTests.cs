using DmaSg.Interop.Linux;
using DmaSg.Interop.Tests.Support;

namespace DmaSg.Interop.Tests.Syscalls;

public sealed class MmapTests
{
    private static readonly int Page = ProcSelf.PageSize;

    private static SafeFd Memfd(string name, int pages)
    {
        SafeFd fd = Syscall.MemfdCreate(name, MemfdFlags.Cloexec | MemfdFlags.AllowSealing);
        Syscall.Ftruncate(fd, (long)pages * Page);
        return fd;
    }

    [Fact]
    public void Two_shared_mappings_of_one_memfd_see_each_others_writes()
    {
        string name = ProcSelf.UniqueName("mmap-shared");
        using SafeFd fd = Memfd(name, 2);
        using SafeMapping a = Syscall.Mmap((nuint)(2 * Page), Protection.ReadWrite, MapFlags.Shared, fd, 0);
        using SafeMapping b = Syscall.Mmap((nuint)(2 * Page), Protection.ReadWrite, MapFlags.Shared, fd, 0);

        Assert.NotEqual(a.Address, b.Address);
        Assert.Equal((nuint)(2 * Page), a.Length);
        Assert.Equal(2, ProcSelf.MemfdMaps(name).Count);

        a.AsSpan()[10] = 0xA1;
        a.AsSpan()[Page + 20] = 0xA2;
        b.AsSpan()[Page - 1] = 0xB1;

        Assert.Equal(0xA1, b.AsSpan()[10]);
        Assert.Equal(0xA2, b.AsSpan()[Page + 20]);
        Assert.Equal(0xB1, a.AsSpan()[Page - 1]);
        Assert.Equal(0xA2, ProcSelf.Pread(fd, Page + 20, 1)[0]);
    }

    [Fact]
    public void Mapping_at_a_file_offset_starts_at_that_page()
    {
        using SafeFd fd = Memfd(ProcSelf.UniqueName("mmap-offset"), 3);
        using SafeMapping whole = Syscall.Mmap((nuint)(3 * Page), Protection.ReadWrite, MapFlags.Shared, fd, 0);
        using SafeMapping third = Syscall.Mmap((nuint)Page, Protection.Read, MapFlags.Shared, fd, 2 * Page);

        whole.AsSpan()[2 * Page + 7] = 0x77;

        Assert.Equal(0x77, third.AsSpan()[7]);
    }

    [Fact]
    public void Private_mapping_does_not_write_through_to_the_file()
    {
        using SafeFd fd = Memfd(ProcSelf.UniqueName("mmap-private"), 1);
        using SafeMapping map = Syscall.Mmap((nuint)Page, Protection.ReadWrite, MapFlags.Private, fd, 0);

        map.AsSpan().Fill(0xEE);

        Assert.All(ProcSelf.Pread(fd, 0, Page), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Anonymous_private_mapping_is_zero_filled_and_writable()
    {
        using SafeMapping map = Syscall.Mmap((nuint)(2 * Page), Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, null, 0);

        Assert.All(map.AsSpan().ToArray(), b => Assert.Equal(0, b));
        map.AsSpan().Fill(0x11);
        Assert.Equal(0x11, map.AsSpan()[2 * Page - 1]);
    }

    [Fact]
    public void Zero_length_fails_with_EINVAL()
    {
        var e = Assert.Throws<ErrnoException>(() =>
            Syscall.Mmap(0, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, null, 0));

        Assert.Equal((Errno.EINVAL, "mmap"), (e.Errno, e.Call));
    }

    [Fact]
    public void Unaligned_file_offset_fails_with_EINVAL()
    {
        using SafeFd fd = Memfd(ProcSelf.UniqueName("mmap-unaligned"), 2);

        Assert.Equal(Errno.EINVAL,
            Assert.Throws<ErrnoException>(() => Syscall.Mmap((nuint)Page, Protection.Read, MapFlags.Shared, fd, 1)).Errno);
    }

    [Fact]
    public void Fd_that_is_not_open_fails_with_EBADF()
    {
        using var bad = new SafeFd(int.MaxValue, ownsHandle: false);

        var e = Assert.Throws<ErrnoException>(() => Syscall.Mmap((nuint)Page, Protection.Read, MapFlags.Shared, bad, 0));
        Assert.Equal(Errno.EBADF, e.Errno);
    }

    [Fact]
    public void Shared_file_mapping_without_an_fd_fails_with_EBADF()
    {
        Assert.Equal(Errno.EBADF,
            Assert.Throws<ErrnoException>(() => Syscall.Mmap((nuint)Page, Protection.Read, MapFlags.Shared, null, 0)).Errno);
    }

    [Fact]
    public void Disposed_fd_throws_ObjectDisposedException()
    {
        SafeFd fd = Memfd(ProcSelf.UniqueName("mmap-closed"), 1);
        fd.Dispose();

        Assert.Throws<ObjectDisposedException>(() => Syscall.Mmap((nuint)Page, Protection.Read, MapFlags.Shared, fd, 0));
    }

    [Theory]
    [InlineData(MapFlags.Fixed)]
    [InlineData(MapFlags.FixedNoReplace)]
    public void Fixed_flags_are_refused_outside_MmapFixed(MapFlags fixedFlag)
    {
        Assert.Throws<ArgumentException>(() =>
            Syscall.Mmap((nuint)Page, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | fixedFlag, null, 0));
    }

    [Fact]
    public void Reservation_is_inaccessible_address_space()
    {
        using SafeMapping reservation = Syscall.ReserveAddressSpace((nuint)(4 * Page));

        MapsEntry entry = Assert.Single(ProcSelf.Maps(), m => m.Contains(reservation.Address, reservation.Length));
        Assert.Equal("---p", entry.Perms);
    }

    [Fact]
    public void Non_adjacent_memfd_pages_fixed_into_adjacent_slots_read_contiguously()
    {
        string name = ProcSelf.UniqueName("mmap-fixed");
        using SafeFd fd = Memfd(name, 4);
        using SafeMapping direct = Syscall.Mmap((nuint)(4 * Page), Protection.ReadWrite, MapFlags.Shared, fd, 0);
        direct.AsSpan().Slice(3 * Page, Page).Fill(0x33);
        direct.AsSpan().Slice(1 * Page, Page).Fill(0x11);

        using SafeMapping reservation = Syscall.ReserveAddressSpace((nuint)(3 * Page));
        // File page 3 into slot 0 and file page 1 into slot 1; slot 2 stays PROT_NONE.
        Syscall.MmapFixed(reservation, 0, (nuint)Page, Protection.ReadWrite, MapFlags.Shared, fd, 3 * Page);
        Syscall.MmapFixed(reservation, (nuint)Page, (nuint)Page, Protection.ReadWrite, MapFlags.Shared, fd, 1 * Page);

        Span<byte> contiguous = reservation.AsSpan()[..(2 * Page)];
        Assert.All(contiguous[..Page].ToArray(), b => Assert.Equal(0x33, b));
        Assert.All(contiguous[Page..].ToArray(), b => Assert.Equal(0x11, b));

        // Writes through the reservation land in the file pages, across the slot boundary.
        contiguous[Page - 1] = 0xC0;
        contiguous[Page] = 0xC1;
        Assert.Equal(0xC0, direct.AsSpan()[4 * Page - 1]);
        Assert.Equal(0xC1, direct.AsSpan()[Page]);

        // The kernel shows both slots as shared memfd mappings at the file offsets asked for.
        var slots = ProcSelf.MemfdMaps(name).Where(m => m.Overlaps(reservation.Address, reservation.Length)).OrderBy(m => m.Start).ToList();
        Assert.Equal(2, slots.Count);
        Assert.Equal((ulong)reservation.Address, slots[0].Start);
        Assert.Equal((ulong)(3 * Page), slots[0].Offset);
        Assert.Equal((ulong)(reservation.Address + Page), slots[1].Start);
        Assert.Equal((ulong)Page, slots[1].Offset);
        Assert.All(slots, s => Assert.Equal("rw-s", s.Perms));
        MapsEntry rest = Assert.Single(ProcSelf.Maps(), m => m.Contains(reservation.Address + 2 * Page, (nuint)Page));
        Assert.Equal("---p", rest.Perms);
    }

    [Theory]
    [InlineData(4, 1)] // starts at the end
    [InlineData(3, 2)] // runs past the end
    [InlineData(0, 5)] // longer than the reservation
    [InlineData(1, 0)] // empty
    public void Fixed_range_outside_the_reservation_is_refused(int offsetPages, int lengthPages)
    {
        using SafeFd fd = Memfd(ProcSelf.UniqueName("mmap-fixed-out"), 4);
        using SafeMapping reservation = Syscall.ReserveAddressSpace((nuint)(4 * Page));

        Assert.Throws<ArgumentOutOfRangeException>(() => Syscall.MmapFixed(reservation, (nuint)(offsetPages * Page),
            (nuint)(lengthPages * Page), Protection.ReadWrite, MapFlags.Shared, fd, 0));
    }

    [Fact]
    public void Fixed_range_whose_end_overflows_is_refused()
    {
        using SafeFd fd = Memfd(ProcSelf.UniqueName("mmap-fixed-overflow"), 1);
        using SafeMapping reservation = Syscall.ReserveAddressSpace((nuint)(2 * Page));

        Assert.Throws<ArgumentOutOfRangeException>(() => Syscall.MmapFixed(reservation, (nuint)Page,
            nuint.MaxValue - (nuint)Page + 2, Protection.ReadWrite, MapFlags.Shared, fd, 0));
    }

    [Fact]
    public void Fixed_mapping_with_an_unaligned_file_offset_fails_with_EINVAL()
    {
        using SafeFd fd = Memfd(ProcSelf.UniqueName("mmap-fixed-einval"), 2);
        using SafeMapping reservation = Syscall.ReserveAddressSpace((nuint)(2 * Page));

        var e = Assert.Throws<ErrnoException>(() =>
            Syscall.MmapFixed(reservation, 0, (nuint)Page, Protection.ReadWrite, MapFlags.Shared, fd, 1));
        Assert.Equal((Errno.EINVAL, "mmap(MAP_FIXED)"), (e.Errno, e.Call));
    }

    [Fact]
    public void Fixed_mapping_of_an_fd_that_is_not_open_fails_with_EBADF()
    {
        using var bad = new SafeFd(int.MaxValue, ownsHandle: false);
        using SafeMapping reservation = Syscall.ReserveAddressSpace((nuint)Page);

        var e = Assert.Throws<ErrnoException>(() =>
            Syscall.MmapFixed(reservation, 0, (nuint)Page, Protection.ReadWrite, MapFlags.Shared, bad, 0));
        Assert.Equal(Errno.EBADF, e.Errno);
    }

    [Fact]
    public void Fixed_mapping_into_a_disposed_reservation_throws_ObjectDisposedException()
    {
        using SafeFd fd = Memfd(ProcSelf.UniqueName("mmap-fixed-disposed"), 1);
        SafeMapping reservation = Syscall.ReserveAddressSpace((nuint)Page);
        reservation.Dispose();

        Assert.Throws<ObjectDisposedException>(() =>
            Syscall.MmapFixed(reservation, 0, (nuint)Page, Protection.ReadWrite, MapFlags.Shared, fd, 0));
    }
}
