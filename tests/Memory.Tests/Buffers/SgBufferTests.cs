using DmaSg.Memory.Arena;
using DmaSg.Memory.Buffers;
using DmaSg.Memory.Dma;

namespace DmaSg.Memory.Tests.Buffers;

public sealed class SgBufferTests
{
    private static readonly int PageSize = Environment.SystemPageSize;

    [Theory]
    [InlineData(1L, 1)]
    [InlineData(4096L, 1)]
    [InlineData(4097L, 2)]
    [InlineData(7L * 4096, 7)]
    [InlineData((7L * 4096) + 1, 8)]
    public void Allocate_rounds_up_to_pages_and_maps_once(long size4k, int expectedPages)
    {
        // Sizes are written for 4 KiB pages; scale them for other page sizes.
        long size = size4k / 4096 * PageSize + (size4k % 4096);
        using var arena = BufferTestArena.Create(64);
        var device = TestDevices.Coherent();

        var buf = SgBuffer.Allocate(arena, device, size, DmaDirection.Bidirectional, "buf#1");

        Assert.Equal(expectedPages, buf.NumPages);
        Assert.Equal((long)expectedPages * PageSize, buf.Size);
        Assert.Equal(1, buf.NumUsers);
        Assert.Equal(0, buf.Offset);
        Assert.False(buf.IsUserptr);
        Assert.Same(buf.SgTable, buf.Cookie);
        Assert.True(buf.Cookie.IsMapped);
        Assert.Equal("buf#1", buf.SgTable.Owner);
        Assert.Equal(buf.Size, buf.SgTable.Length);
        Assert.Equal(1, device.RefCount);
        Assert.Equal(1, device.LiveMappings);
        Assert.Equal(expectedPages, arena.AllocatedPageCount);
        foreach (int page in buf.Pages)
        {
            Assert.True(arena.IsAllocated(page));
        }

        Assert.True(buf.Put());
        Assert.Equal(0, arena.AllocatedPageCount);
    }

    [Fact]
    public void Allocate_is_compacted_and_respects_the_device_max_segment()
    {
        using var arena = BufferTestArena.Create(64);
        var wide = TestDevices.Coherent();
        var buf = SgBuffer.Allocate(arena, wide, 7L * PageSize, DmaDirection.ToDevice, "wide");
        // 4 + 2 + 1 pages from a fresh arena come out consecutive: one segment.
        Assert.Equal(1, buf.SgTable.OrigNents);
        buf.Put();

        var narrow = TestDevices.Coherent(maxSegmentSize: 2L * PageSize);
        var buf2 = SgBuffer.Allocate(arena, narrow, 7L * PageSize, DmaDirection.ToDevice, "narrow");
        Assert.Equal(4, buf2.SgTable.OrigNents);
        foreach (var e in buf2.SgTable.Entries)
        {
            Assert.True(e.Length <= 2L * PageSize);
        }

        buf2.Put();
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MaxValue - 4095)]
    public void Bad_sizes_are_invalid_and_change_nothing(long size)
    {
        using var arena = BufferTestArena.Create(16);
        var before = arena.Snapshot();
        var device = TestDevices.Coherent();

        var e = Assert.Throws<DmaSgException>(() => SgBuffer.Allocate(arena, device, size, DmaDirection.ToDevice, "bad"));

        Assert.Equal(DmaSgError.InvalidArgument, e.Error);
        Assert.Equal(before, arena.Snapshot());
        Assert.Equal(0, device.RefCount);
    }

    [Fact]
    public void Size_past_int_pages_is_invalid_not_wrapped()
    {
        using var arena = BufferTestArena.Create(16);
        var device = TestDevices.Coherent();
        long size = ((long)int.MaxValue + 1) * PageSize;
        Assert.Equal(DmaSgError.InvalidArgument,
            Assert.Throws<DmaSgException>(() => SgBuffer.Allocate(arena, device, size, DmaDirection.ToDevice, "huge")).Error);
        Assert.Equal(0, device.RefCount);
    }

    [Fact]
    public void Null_device_and_bad_directions_are_invalid()
    {
        using var arena = BufferTestArena.Create(16);
        var before = arena.Snapshot();
        var device = TestDevices.Coherent();

        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => SgBuffer.Allocate(arena, null!, PageSize, DmaDirection.ToDevice, "x")).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => SgBuffer.Allocate(arena, device, PageSize, DmaDirection.None, "x")).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => SgBuffer.Allocate(arena, device, PageSize, (DmaDirection)7, "x")).Error);

        Assert.Equal(before, arena.Snapshot());
        Assert.Equal(0, device.RefCount);
    }

    [Fact]
    public void Out_of_memory_leaves_the_arena_unchanged()
    {
        using var arena = BufferTestArena.Create(16, maxOrder: 3);
        var device = TestDevices.Coherent();
        var hold = SgBuffer.Allocate(arena, device, 5L * PageSize, DmaDirection.ToDevice, "hold");
        var before = arena.Snapshot();

        var e = Assert.Throws<DmaSgException>(() => SgBuffer.Allocate(arena, device, 12L * PageSize, DmaDirection.ToDevice, "big"));
        Assert.Equal(DmaSgError.OutOfMemory, e.Error);
        Assert.Equal(before, arena.Snapshot());
        Assert.Equal(1, device.RefCount);

        // Fail in the middle of the compacted loop: the blocks already taken go back.
        arena.FaultInjector = new AllocFaultInjector { FailOrderAtLeast = 0, FailNth = 0 };
        Assert.Equal(DmaSgError.OutOfMemory,
            Assert.Throws<DmaSgException>(() => SgBuffer.Allocate(arena, device, 3L * PageSize, DmaDirection.ToDevice, "inj")).Error);
        arena.FaultInjector = new AllocFaultInjector { FailNth = 2 };
        Assert.Equal(DmaSgError.OutOfMemory,
            Assert.Throws<DmaSgException>(() => SgBuffer.Allocate(arena, device, 3L * PageSize, DmaDirection.ToDevice, "inj2")).Error);
        arena.FaultInjector = null;

        Assert.Equal(before, arena.Snapshot());
        Assert.Equal(1, device.RefCount);
        Assert.Equal(1, device.LiveMappings);
        hold.Put();
        Assert.Equal(0, device.RefCount);
    }

    [Fact]
    public void A_removed_device_is_DeviceGone_before_any_page_is_taken()
    {
        using var arena = BufferTestArena.Create(16);
        var before = arena.Snapshot();
        using var device = TestDevices.Coherent();
        device.Remove();
        Assert.Equal(DmaSgError.DeviceGone,
            Assert.Throws<DmaSgException>(() => SgBuffer.Allocate(arena, device, PageSize, DmaDirection.ToDevice, "x")).Error);
        Assert.Equal(before, arena.Snapshot());
    }

    [Fact]
    public void Map_failure_rolls_back_completely()
    {
        using var arena = BufferTestArena.Create(64);
        var before = arena.Snapshot();
        var device = TestDevices.Coherent(addressLimit: 2L * PageSize);

        Assert.Throws<DmaSgException>(() => SgBuffer.Allocate(arena, device, 8L * PageSize, DmaDirection.FromDevice, "far"));

        Assert.Equal(before, arena.Snapshot());
        Assert.Equal(0, device.RefCount);
        Assert.Equal(0, device.LiveMappings);
        Assert.Equal([arena.BaseAddress], BufferTestArena.MappingsOf(arena));
    }

    [Fact]
    public void Refs_count_and_the_last_put_frees_everything()
    {
        using var arena = BufferTestArena.Create(64);
        var before = arena.Snapshot();
        var device = TestDevices.Coherent();
        var buf = SgBuffer.Allocate(arena, device, 5L * PageSize, DmaDirection.Bidirectional, "refs");
        buf.Vaddr();

        buf.AddRef();
        buf.AddRef();
        Assert.Equal(3, buf.NumUsers);
        Assert.False(buf.Put());
        Assert.False(buf.Put());
        Assert.False(buf.IsReleased);
        Assert.Equal(1, device.RefCount);

        Assert.True(buf.Put());
        Assert.True(buf.IsReleased);
        Assert.False(buf.HasVaddr);
        Assert.Equal(before, arena.Snapshot());
        Assert.Equal(0, device.RefCount);
        Assert.Equal(0, device.LiveMappings);
        Assert.Empty(device.Violations);
        Assert.Equal([arena.BaseAddress], BufferTestArena.MappingsOf(arena));
    }

    [Fact]
    public void Every_call_after_release_is_UseAfterRelease()
    {
        using var arena = BufferTestArena.Create(16);
        var buf = SgBuffer.Allocate(arena, TestDevices.Coherent(), PageSize, DmaDirection.ToDevice, "gone");
        buf.Put();

        var calls = new Action[]
        {
            () => buf.AddRef(), () => buf.Put(), () => buf.Prepare(), () => buf.Finish(), () => buf.Vaddr(),
            () => buf.Kmap(0), () => buf.Mmap(PageSize), () => buf.CopyToCpu(0, new byte[1]),
            () => buf.CopyFromCpu(0, new byte[1]), () => _ = buf.Cookie, () => _ = buf.SgTable, () => _ = buf.Pages.Length,
        };
        foreach (var call in calls)
        {
            Assert.Equal(DmaSgError.UseAfterRelease, Assert.Throws<DmaSgException>(call).Error);
        }

        Assert.Equal(0, buf.NumUsers);
    }

    [Fact]
    public void ReturnPages_delegate_takes_the_pages_home_exactly_once()
    {
        using var arena = BufferTestArena.Create(32);
        var before = arena.Snapshot();
        var returned = new List<int[]>();
        var buf = SgBuffer.Allocate(arena, TestDevices.Coherent(), 3L * PageSize, DmaDirection.ToDevice, "r", returned.Add);
        int[] pages = buf.Pages.ToArray();

        buf.Put();

        Assert.Single(returned);
        Assert.Equal(pages, returned[0]);
        Assert.Equal(3, arena.AllocatedPageCount); // the delegate, not the buffer, frees them
        arena.FreePageList(returned[0]);
        Assert.Equal(before, arena.Snapshot());
    }

    [Fact]
    public void Vaddr_is_lazy_cached_contiguous_and_shows_the_pages()
    {
        using var arena = BufferTestArena.Create(64);
        var (buf, device) = ScatteredBuffer(arena, 6);

        Assert.False(buf.HasVaddr);
        nint va = buf.Vaddr();
        Assert.True(buf.HasVaddr);
        Assert.Equal(va, buf.Vaddr());

        var data = BufferTestArena.Pattern((int)buf.Size, seed: 1);
        unsafe
        {
            data.CopyTo(new Span<byte>((void*)va, data.Length));
        }

        for (int i = 0; i < buf.NumPages; i++)
        {
            Assert.True(arena.PageSpan(buf.Pages[i]).SequenceEqual(data.AsSpan(i * PageSize, PageSize)));
        }

        var read = new byte[data.Length];
        buf.CopyToCpu(0, read);
        Assert.Equal(data, read);

        buf.Put();
        Assert.Equal(0, device.RefCount);
        Assert.Equal([arena.BaseAddress], BufferTestArena.MappingsOf(arena));
    }

    [Fact]
    public void Kmap_works_without_vaddr_and_is_bounds_checked()
    {
        using var arena = BufferTestArena.Create(64);
        var (buf, _) = ScatteredBuffer(arena, 4);
        buf.CopyFromCpu(0, BufferTestArena.Pattern((int)buf.Size, seed: 2));

        for (int i = 0; i < buf.NumPages; i++)
        {
            nint page = buf.Kmap(i);
            Assert.Equal(arena.AddressOf(buf.Pages[i]), page);
            unsafe
            {
                Assert.True(new Span<byte>((void*)page, PageSize).SequenceEqual(arena.PageSpan(buf.Pages[i])));
            }
        }

        Assert.False(buf.HasVaddr);
        nint va = buf.Vaddr();
        Assert.Equal(va + (2 * PageSize), buf.Kmap(2));

        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => buf.Kmap(-1)).Error);
        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => buf.Kmap(buf.NumPages)).Error);
        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => buf.Kmap(int.MaxValue)).Error);
        buf.Put();
    }

    [Fact]
    public void Cpu_copies_cross_segments_and_are_bounds_checked()
    {
        using var arena = BufferTestArena.Create(64);
        var (buf, _) = ScatteredBuffer(arena, 5);
        Assert.True(buf.SgTable.OrigNents > 1);

        var chunk = BufferTestArena.Pattern(3 * PageSize, seed: 4);
        buf.CopyFromCpu(PageSize - 17, chunk);
        var back = new byte[chunk.Length];
        buf.CopyToCpu(PageSize - 17, back);
        Assert.Equal(chunk, back);
        unsafe
        {
            Assert.True(new Span<byte>((void*)(buf.Vaddr() + PageSize - 17), chunk.Length).SequenceEqual(chunk));
        }

        buf.CopyToCpu(buf.Size, Span<byte>.Empty);
        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => buf.CopyToCpu(-1, new byte[1])).Error);
        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => buf.CopyToCpu(buf.Size, new byte[1])).Error);
        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => buf.CopyFromCpu(buf.Size - 1, new byte[2])).Error);
        Assert.Equal(DmaSgError.Fault, Assert.Throws<DmaSgException>(() => buf.CopyFromCpu(long.MaxValue, new byte[2])).Error);
        buf.Put();
    }

    [Fact]
    public void Mmap_takes_a_ref_and_dispose_drops_it_once()
    {
        using var arena = BufferTestArena.Create(64);
        var before = arena.Snapshot();
        var (buf, device) = ScatteredBuffer(arena, 4);

        var map = buf.Mmap(buf.Size);
        Assert.Equal(2, buf.NumUsers);
        Assert.Equal(buf.Size, map.Length);
        Assert.Same(buf, map.Buffer);

        map.Dispose();
        map.Dispose();
        Assert.True(map.IsClosed);
        Assert.Equal(1, buf.NumUsers);

        // The mapping keeps the buffer alive past its owner's put.
        var map2 = buf.Mmap(PageSize + 1);
        Assert.Equal(2L * PageSize, map2.MappedLength);
        Assert.False(buf.Put());
        Assert.False(buf.IsReleased);
        map2.Dispose();
        Assert.True(buf.IsReleased);
        Assert.Equal(before, arena.Snapshot());
        Assert.Equal(0, device.RefCount);
        Assert.Equal([arena.BaseAddress], BufferTestArena.MappingsOf(arena));
    }

    [Fact]
    public void Mmap_bytes_are_the_buffer_bytes_and_oversize_fails()
    {
        using var arena = BufferTestArena.Create(64);
        var (buf, _) = ScatteredBuffer(arena, 4);

        using (var map = buf.Mmap(buf.Size))
        {
            var data = BufferTestArena.Pattern((int)buf.Size, seed: 5);
            data.CopyTo(map.AsSpan());
            var read = new byte[data.Length];
            buf.CopyToCpu(0, read);
            Assert.Equal(data, read);

            buf.CopyFromCpu(PageSize, new byte[] { 0xAB, 0xCD });
            Assert.Equal(0xAB, map.AsSpan()[PageSize]);
            Assert.Equal(0xCD, map.AsSpan()[PageSize + 1]);
            Assert.Equal(buf.SgTable.OrigNents, map.Runs);
        }

        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => buf.Mmap(buf.Size + 1)).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => buf.Mmap(0)).Error);
        Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => buf.Mmap(-PageSize)).Error);
        Assert.Equal(1, buf.NumUsers);
        buf.Put();
    }

    /// <summary>A buffer of <paramref name="pages"/> pages none of which are consecutive: every other page is held while it is allocated.</summary>
    internal static (SgBuffer Buffer, DmaApiChecker Device) ScatteredBuffer(PageArena arena, int pages)
    {
        var device = TestDevices.Coherent();
        return (ScatteredBuffer(arena, device, pages, DmaDirection.Bidirectional), device);
    }

    internal static SgBuffer ScatteredBuffer(PageArena arena, IDmaDevice device, int pages, DmaDirection dir)
    {
        var taken = new List<int>();
        while (arena.TryAllocPages(0, out int p))
        {
            taken.Add(p);
        }

        var holes = taken.Where(p => p % 2 == 0).Take(pages).ToArray();
        arena.FreePageList(holes);
        try
        {
            var buf = SgBuffer.Allocate(arena, device, (long)pages * PageSize, dir, "scattered");
            Assert.Equal(pages, buf.SgTable.OrigNents);
            return buf;
        }
        finally
        {
            arena.FreePageList(taken.Except(holes).ToArray());
        }
    }
}
