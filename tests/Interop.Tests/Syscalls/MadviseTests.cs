using DmaSg.Interop.Linux;
using DmaSg.Interop.Tests.Support;

namespace DmaSg.Interop.Tests.Syscalls;

public sealed class MadviseTests
{
    private static readonly int Page = ProcSelf.PageSize;

    [Fact]
    public void DontNeed_on_a_private_anonymous_mapping_zeroes_it()
    {
        using SafeMapping map = Syscall.Mmap((nuint)(2 * Page), Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, null, 0);
        map.AsSpan().Fill(0x42);

        Syscall.Madvise(map.Address, map.Length, Advice.DontNeed);

        Assert.All(map.AsSpan().ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void DontNeed_on_a_shared_memfd_mapping_keeps_the_file_data()
    {
        using SafeFd fd = Syscall.MemfdCreate(ProcSelf.UniqueName("madvise-shared"), MemfdFlags.Cloexec);
        Syscall.Ftruncate(fd, Page);
        using SafeMapping map = Syscall.Mmap((nuint)Page, Protection.ReadWrite, MapFlags.Shared, fd, 0);
        map.AsSpan().Fill(0x42);

        Syscall.Madvise(map.Address, map.Length, Advice.DontNeed);

        // The page table entries are dropped, but the next access faults the page cache page back in.
        Assert.All(map.AsSpan().ToArray(), b => Assert.Equal(0x42, b));
    }

    [Fact]
    public void Remove_on_a_shared_memfd_mapping_frees_the_file_pages()
    {
        using SafeFd fd = Syscall.MemfdCreate(ProcSelf.UniqueName("madvise-remove"), MemfdFlags.Cloexec);
        Syscall.Ftruncate(fd, 2 * Page);
        using SafeMapping map = Syscall.Mmap((nuint)(2 * Page), Protection.ReadWrite, MapFlags.Shared, fd, 0);
        map.AsSpan().Fill(0x42);

        Syscall.Madvise(map.Address + Page, (nuint)Page, Advice.Remove);

        Assert.All(ProcSelf.Pread(fd, 0, Page), b => Assert.Equal(0x42, b));
        Assert.All(ProcSelf.Pread(fd, Page, Page), b => Assert.Equal(0, b));
        Assert.Equal(2 * Page, ProcSelf.FileSize(fd));
    }

    [Theory]
    [InlineData(Advice.Normal)]
    [InlineData(Advice.Random)]
    [InlineData(Advice.Sequential)]
    [InlineData(Advice.WillNeed)]
    [InlineData(Advice.Free)]
    [InlineData(Advice.DontFork)]
    [InlineData(Advice.DoFork)]
    public void Advice_is_accepted_on_a_private_anonymous_mapping(Advice advice)
    {
        using SafeMapping map = Syscall.Mmap((nuint)Page, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, null, 0);

        Syscall.Madvise(map.Address, map.Length, advice);
    }

    [Fact]
    public void Unaligned_address_fails_with_EINVAL()
    {
        using SafeMapping map = Syscall.Mmap((nuint)(2 * Page), Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, null, 0);

        var e = Assert.Throws<ErrnoException>(() => Syscall.Madvise(map.Address + 1, (nuint)Page, Advice.DontNeed));
        Assert.Equal((Errno.EINVAL, "madvise"), (e.Errno, e.Call));
    }

    [Fact]
    public void Unknown_advice_fails_with_EINVAL()
    {
        using SafeMapping map = Syscall.Mmap((nuint)Page, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, null, 0);

        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => Syscall.Madvise(map.Address, map.Length, (Advice)999)).Errno);
    }

    [Fact]
    public void Remove_on_a_private_mapping_fails_with_EINVAL()
    {
        using SafeMapping map = Syscall.Mmap((nuint)Page, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, null, 0);

        Assert.Equal(Errno.EINVAL, Assert.Throws<ErrnoException>(() => Syscall.Madvise(map.Address, map.Length, Advice.Remove)).Errno);
    }
}
