using System.Runtime.InteropServices;
using DmaSg.Benchmarks.Designs;

namespace DmaSg.Benchmarks.Baselines.Limit;

/// <summary>
/// P1 limit: clearing warm, already-mapped memory of the same size (memset bandwidth). Handing out
/// zeroed pages cannot be cheaper than this, so it is the yardstick every allocator is divided by.
/// </summary>
public sealed unsafe class WarmClear : IAllocFreeDesign
{
    private readonly nuint _capacity;
    private void* _memory;

    public WarmClear(long capacity)
    {
        _capacity = (nuint)capacity;
        _memory = NativeMemory.AlignedAlloc(_capacity, (nuint)Environment.SystemPageSize);
        if (_memory is null)
        {
            throw new OutOfMemoryException($"AlignedAlloc({capacity})");
        }

        // Fault every page in once: from here on the memory is warm.
        NativeMemory.Fill(_memory, _capacity, 0xA5);
    }

    public string Name => "Limit";

    public ValueTask RunAsync(long size, int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((nuint)size, _capacity);
        for (int i = 0; i < count; i++)
        {
            NativeMemory.Clear(_memory, (nuint)size);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        if (_memory is not null)
        {
            NativeMemory.AlignedFree(_memory);
            _memory = null;
        }

        return ValueTask.CompletedTask;
    }
}
