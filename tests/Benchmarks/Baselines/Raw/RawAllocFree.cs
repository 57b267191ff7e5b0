using System.Buffers;
using System.Runtime.InteropServices;
using DmaSg.Benchmarks.Designs;

namespace DmaSg.Benchmarks.Baselines.Raw;

/// <summary>
/// P1 baseline: NativeMemory.AlignedAlloc + clear + free. Large sizes come from fresh mmap'd memory
/// each time, so the clear pays a page fault per page: the cost DmaSg's warm arena avoids.
/// </summary>
public sealed unsafe class RawAlignedAlloc : IAllocFreeDesign
{
    public string Name => "Raw.AlignedAlloc";

    public ValueTask RunAsync(long size, int count)
    {
        for (int i = 0; i < count; i++)
        {
            void* p = NativeMemory.AlignedAlloc((nuint)size, (nuint)Environment.SystemPageSize);
            if (p is null)
            {
                throw new OutOfMemoryException($"AlignedAlloc({size})");
            }

            NativeMemory.Clear(p, (nuint)size);
            NativeMemory.AlignedFree(p);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>P1 baseline: ArrayPool&lt;byte&gt;.Shared rent + clear + return (managed, pooled, not DMA-able).</summary>
public sealed class RawArrayPool : IAllocFreeDesign
{
    public string Name => "Raw.ArrayPool";

    public ValueTask RunAsync(long size, int count)
    {
        int n = checked((int)size);
        for (int i = 0; i < count; i++)
        {
            byte[] a = ArrayPool<byte>.Shared.Rent(n);
            a.AsSpan(0, n).Clear();
            ArrayPool<byte>.Shared.Return(a);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
