using DmaSg.Interop;
using DmaSg.Interop.Linux;
using DmaSg.Memory.Buffers;
using DmaSg.Memory.Dma;

namespace DmaSg.Memory.Tests.Buffers;

public sealed class UserPagesTests
{
    private static readonly int PageSize = Environment.SystemPageSize;

    [Fact]
    public void Unaligned_native_start_keeps_its_offset_and_counts_every_touched_page()
    {
        using var mem = Syscall.Mmap((nuint)(4 * PageSize), Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, null, 0);
        var pin = UserPages.Pin(mem.Address + 100, 2L * PageSize, DmaDirection.ToDevice);

        Assert.Equal(100, pin.Offset);
        Assert.Equal(mem.Address, pin.PageAlignedStart);
        Assert.Equal(mem.Address + 100, pin.Address);
        Assert.Equal(3, pin.PageCount);
        Assert.Equal(mem.Address + (2 * PageSize), pin.PageAddress(2));
        Assert.True(pin.IsWritable);
        Assert.False(pin.IsManaged);
        Assert.Empty(pin.Release());
    }

    [Fact]
    public void Dirty_pages_are_all_pages_for_FromDevice_and_Bidirectional_and_none_for_ToDevice()
    {
        using var mem = Syscall.Mmap((nuint)(4 * PageSize), Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, null, 0);
        nint[] expected = [mem.Address, mem.Address + PageSize, mem.Address + (2 * PageSize)];

        Assert.Equal(expected, UserPages.Pin(mem.Address + 8, (2L * PageSize) + 1, DmaDirection.FromDevice).Release());
        Assert.Equal(expected, UserPages.Pin(mem.Address + 8, (2L * PageSize) + 1, DmaDirection.Bidirectional).Release());
        Assert.Empty(UserPages.Pin(mem.Address + 8, (2L * PageSize) + 1, DmaDirection.ToDevice).Release());
    }

    [Fact]
    public void Read_only_native_memory_pins_for_ToDevice_only()
    {
        using var ro = Syscall.Mmap((nuint)(2 * PageSize), Protection.Read, MapFlags.Private | MapFlags.Anonymous, null, 0);

        var pin = UserPages.Pin(ro.Address, 2L * PageSize, DmaDirection.ToDevice);
        Assert.False(pin.IsWritable);
        pin.Release();

        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => UserPages.Pin(ro.Address, 10, DmaDirection.FromDevice)).Error);
        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => UserPages.Pin(ro.Address, 10, DmaDirection.Bidirectional)).Error);
    }

    [Fact]
    public void Read_only_managed_memory_pins_for_ToDevice_only()
    {
        ReadOnlyMemory<byte> data = new byte[3 * PageSize];
        var pin = UserPages.Pin(data, DmaDirection.ToDevice);
        Assert.False(pin.IsWritable);
        Assert.True(pin.IsManaged);
        pin.Release();

        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => UserPages.Pin(data, DmaDirection.FromDevice)).Error);
    }

    [Fact]
    public void Memory_stays_pinned_until_release()
    {
        using var manager = new CountingMemoryManager(3 * PageSize);
        var pin = UserPages.Pin(manager.Memory[10..], DmaDirection.FromDevice);

        Assert.Equal(1, manager.Pins);
        Assert.Equal(manager.Address + 10, pin.Address);
        Assert.Equal(10, pin.Offset);
        Assert.True(pin.IsPinned);

        Assert.Equal(3, pin.Release().Length);
        Assert.Equal(0, manager.Pins);
        Assert.False(pin.IsPinned);
        Assert.Equal(DmaSgError.UseAfterRelease, Assert.Throws<DmaSgException>(() => pin.Release()).Error);
        Assert.Equal(0, manager.Pins);
    }

    [Fact]
    public void Managed_array_does_not_move_while_pinned()
    {
        var garbage = new List<byte[]>();
        for (int i = 0; i < 1000; i++)
        {
            garbage.Add(new byte[100]);
        }

        var array = new byte[2 * PageSize];
        var pin = UserPages.Pin(array.AsMemory(), DmaDirection.Bidirectional);
        garbage.Clear();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);

        unsafe
        {
            fixed (byte* p = array)
            {
                Assert.Equal(pin.Address, (nint)p);
            }
        }

        pin.Release();
    }

    [Fact]
    public void Mlock_is_recorded_and_undone_on_release()
    {
        using var mem = Syscall.Mmap((nuint)(2 * PageSize), Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, null, 0);
        var pin = UserPages.Pin(mem.Address, 2L * PageSize, DmaDirection.ToDevice);

        Assert.Equal(pin.IsLocked, pin.MlockErrno == 0);
        if (pin.IsLocked)
        {
            Assert.True(IsLockedVma(mem.Address), "VM_LOCKED while pinned");
        }
        else
        {
            Assert.Contains(pin.MlockErrno, new[] { Errno.ENOMEM, Errno.EPERM, Errno.EAGAIN });
        }

        pin.Release();
        Assert.False(pin.IsLocked);
        Assert.False(IsLockedVma(mem.Address), "VM_LOCKED after release");
    }

    [Fact]
    public void Unreadable_or_null_ranges_fault_and_bad_sizes_are_invalid()
    {
        using var none = Syscall.ReserveAddressSpace((nuint)(2 * PageSize));
        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => UserPages.Pin(none.Address, 10, DmaDirection.ToDevice)).Error);
        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => UserPages.Pin(0, 10, DmaDirection.ToDevice)).Error);

        using var mem = Syscall.Mmap((nuint)PageSize, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, null, 0);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => UserPages.Pin(mem.Address, 0, DmaDirection.ToDevice)).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => UserPages.Pin(mem.Address, -1, DmaDirection.ToDevice)).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => UserPages.Pin(mem.Address, long.MaxValue, DmaDirection.ToDevice)).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => UserPages.Pin(mem.Address, 10, DmaDirection.None)).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => UserPages.Pin(Memory<byte>.Empty, DmaDirection.ToDevice)).Error);

        // A range that starts in readable memory and runs on into PROT_NONE.
        using var arena = BufferTestArena.Create(4);
        using var reserved = Syscall.ReserveAddressSpace((nuint)(2 * PageSize));
        Syscall.MmapFixed(reserved, 0, (nuint)PageSize, Protection.ReadWrite, MapFlags.Shared, arena.Fd, 0);
        UserPages.Pin(reserved.Address + PageSize - 8, 8, DmaDirection.Bidirectional).Release();
        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => UserPages.Pin(reserved.Address + PageSize - 4, 8, DmaDirection.ToDevice)).Error);
    }

    // VmFlags "lo" = VM_LOCKED for the vma containing the address.
    private static bool IsLockedVma(nint address)
    {
        bool inVma = false;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-');
            int space = line.IndexOf(' ');
            if (dash > 0 && space > dash && line.Length > 8 && Uri.IsHexDigit(line[0]))
            {
                ulong lo = Convert.ToUInt64(line[..dash], 16);
                ulong hi = Convert.ToUInt64(line[(dash + 1)..space], 16);
                inVma = (ulong)address >= lo && (ulong)address < hi;
            }
            else if (inVma && line.StartsWith("VmFlags:", StringComparison.Ordinal))
            {
                return line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("lo");
            }
        }

        return false;
    }
}
