using DmaSg.Interop.Linux;
using DmaSg.Interop.Tests.Support;

namespace DmaSg.Interop.Tests.Syscalls;

public sealed class MlockTests
{
    private static readonly int Page = ProcSelf.PageSize;

    /// <summary>Whether the kernel marks the memfd mapping at <paramref name="address"/> VM_LOCKED ("lo" in smaps VmFlags).</summary>
    private static bool IsLocked(string name, nint address)
    {
        SmapsEntry entry = Assert.Single(ProcSelf.Smaps(), s => s.Map.Path.StartsWith("/memfd:" + name, StringComparison.Ordinal)
            && s.Map.Contains(address, 1));
        return entry.VmFlags.Contains("lo");
    }

    private static (SafeFd Fd, SafeMapping Map, string Name) Mapping(string prefix, int pages)
    {
        string name = ProcSelf.UniqueName(prefix);
        SafeFd fd = Syscall.MemfdCreate(name, MemfdFlags.Cloexec);
        Syscall.Ftruncate(fd, (long)pages * Page);
        return (fd, Syscall.Mmap((nuint)(pages * Page), Protection.ReadWrite, MapFlags.Shared, fd, 0), name);
    }

    [Fact]
    public void Mlock_and_munlock_a_small_mapping_or_report_the_limit_consistently()
    {
        (SafeFd fd, SafeMapping map, string name) = Mapping("mlock", 1);
        using (fd)
        using (map)
        {
            Assert.False(IsLocked(name, map.Address));

            if (Syscall.TryMlock(map.Address, map.Length, out int errno))
            {
                Assert.Equal(0, errno);
                Assert.True(IsLocked(name, map.Address));

                Syscall.Munlock(map.Address, map.Length);
                Assert.False(IsLocked(name, map.Address));

                // The throwing form does the same.
                Syscall.Mlock(map.Address, map.Length);
                Assert.True(IsLocked(name, map.Address));
                Syscall.Munlock(map.Address, map.Length);
                Assert.False(IsLocked(name, map.Address));
            }
            else
            {
                // RLIMIT_MEMLOCK too small (ENOMEM) or zero without CAP_IPC_LOCK (EPERM): Mlock must agree.
                Assert.True(errno is Errno.ENOMEM or Errno.EPERM, $"TryMlock failed with {Errno.Name(errno)}");
                var e = Assert.Throws<ErrnoException>(() => Syscall.Mlock(map.Address, map.Length));
                Assert.Equal((errno, "mlock"), (e.Errno, e.Call));
                Assert.False(IsLocked(name, map.Address));
            }
        }
    }

    [Fact]
    public void Unaligned_range_is_widened_to_whole_pages()
    {
        (SafeFd fd, SafeMapping map, string name) = Mapping("mlock-unaligned", 2);
        using (fd)
        using (map)
        {
            // mlock/munlock round the start down to a page boundary (mm/mlock.c), unlike munmap and madvise.
            if (!Syscall.TryMlock(map.Address + Page + 1, 1, out int errno))
            {
                Assert.True(errno is Errno.ENOMEM or Errno.EPERM, $"TryMlock failed with {Errno.Name(errno)}");
                return;
            }

            Assert.False(IsLocked(name, map.Address));
            Assert.True(IsLocked(name, map.Address + Page));

            Syscall.Munlock(map.Address + Page + 7, 1);
            Assert.False(IsLocked(name, map.Address + Page));
        }
    }

    [Fact]
    public void Munlock_of_unmapped_memory_fails_with_ENOMEM()
    {
        // Page 0 is never mapped (vm.mmap_min_addr).
        var e = Assert.Throws<ErrnoException>(() => Syscall.Munlock(0, (nuint)Page));
        Assert.Equal((Errno.ENOMEM, "munlock"), (e.Errno, e.Call));
    }

    [Fact]
    public void Munlock_of_a_range_that_wraps_fails_with_EINVAL()
    {
        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => Syscall.Munlock(-Page, (nuint)(2 * Page))).Errno);
    }

    [Fact]
    public void Munlock_of_memory_that_is_not_locked_succeeds()
    {
        (SafeFd fd, SafeMapping map, string name) = Mapping("munlock-idle", 1);
        using (fd)
        using (map)
        {
            Syscall.Munlock(map.Address, map.Length);
            Assert.False(IsLocked(name, map.Address));
        }
    }

    [Fact]
    public void TryMlock_of_unmapped_memory_fails_and_agrees_with_Mlock()
    {
        Assert.False(Syscall.TryMlock(0, (nuint)Page, out int errno));
        // ENOMEM for the hole; EPERM comes first when RLIMIT_MEMLOCK is 0 without CAP_IPC_LOCK.
        Assert.True(errno is Errno.ENOMEM or Errno.EPERM, $"TryMlock failed with {Errno.Name(errno)}");
        Assert.Equal(errno, Assert.Throws<ErrnoException>(() => Syscall.Mlock(0, (nuint)Page)).Errno);
    }
}
