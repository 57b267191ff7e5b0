using DmaSg.Benchmarks.Designs;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Buffers;
using DmaSg.Memory.Dma;

namespace DmaSg.Benchmarks.MemoryLayer;

/// <summary>
/// P1 through DmaSg.Memory alone, single-threaded (what one allocator actor runs): SgBuffer.Allocate
/// (compacted pages zeroed by the arena, sg table, device map) and the last Put.
/// </summary>
public sealed class MemoryAllocFree : IAllocFreeDesign
{
    private readonly PageArena _arena;
    private readonly DmaDevice _device;

    public MemoryAllocFree(long arenaSize = 256L << 20)
    {
        _arena = new PageArena(new PageArenaOptions { ArenaSize = arenaSize, Name = "bench-p1-memory" });
        _device = new CoherentDevice("p1-device");
    }

    public string Name => "Memory";

    public ValueTask RunAsync(long size, int count)
    {
        for (int i = 0; i < count; i++)
        {
            SgBuffer.Allocate(_arena, _device, size, DmaDirection.Bidirectional, "p1").Put();
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _device.Dispose();
        _arena.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>P5 through DmaSg.Memory alone: many live SgBuffers on one arena and one device.</summary>
public sealed class MemoryScale : IScaleDesign
{
    private readonly ScaleCase _case;
    private readonly PageArena _arena;
    private readonly DmaDevice _device;
    private readonly List<SgBuffer> _live = [];

    public MemoryScale(ScaleCase scaleCase)
    {
        _case = scaleCase ?? throw new ArgumentNullException(nameof(scaleCase));
        _arena = new PageArena(new PageArenaOptions { ArenaSize = ScaleArenaSize(scaleCase), Name = "bench-p5-memory" });
        _device = new CoherentDevice("p5-device");
    }

    public string Name => "Memory";

    /// <summary>Room for every live buffer plus slack, in whole 4 MiB blocks.</summary>
    public static long ScaleArenaSize(ScaleCase c)
    {
        ArgumentNullException.ThrowIfNull(c);
        long page = Environment.SystemPageSize;
        long bytes = (long)c.LiveBuffers * ((c.BufferSize + page - 1) / page * page);
        return ((bytes + (bytes / 8) + (4L << 20)) >> 22) << 22;
    }

    public ValueTask PrepareAsync()
    {
        for (int pass = 0; pass < 2; pass++)
        {
            var all = new List<SgBuffer>();
            while (_arena.FreePageCount * _arena.PageSize >= IScaleDesign.ArenaBlock)
            {
                all.Add(SgBuffer.Allocate(_arena, _device, IScaleDesign.ArenaBlock, DmaDirection.Bidirectional, "warm"));
            }

            all.ForEach(b => b.Put());
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask CreateAsync(int count)
    {
        _live.Capacity = Math.Max(_live.Capacity, _live.Count + count);
        for (int i = 0; i < count; i++)
        {
            _live.Add(SgBuffer.Allocate(_arena, _device, _case.BufferSize, DmaDirection.Bidirectional, $"buffer#{i}"));
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DestroyAsync()
    {
        foreach (var b in _live)
        {
            b.Put();
        }

        _live.Clear();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await DestroyAsync().ConfigureAwait(false);
        _device.Dispose();
        _arena.Dispose();
    }
}

/// <summary>
/// P1 diagnostic: only the arena part of <see cref="MemoryAllocFree"/> (compacted pages, zeroed on handout,
/// freed page by page as after split_page). The gap to Memory is the sg table and device map; the gap to
/// Limit is the buddy bookkeeping.
/// </summary>
public sealed class MemoryPagesAllocFree : IAllocFreeDesign
{
    private readonly PageArena _arena;

    public MemoryPagesAllocFree(long arenaSize = 256L << 20) =>
        _arena = new PageArena(new PageArenaOptions { ArenaSize = arenaSize, Name = "bench-p1-pages" });

    public string Name => "Memory.Pages";

    public ValueTask RunAsync(long size, int count)
    {
        for (int i = 0; i < count; i++)
        {
            _arena.FreePageList(CompactedAllocation.AllocateBytes(_arena, size));
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _arena.Dispose();
        return ValueTask.CompletedTask;
    }
}
