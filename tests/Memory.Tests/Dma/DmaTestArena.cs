using DmaSg.Memory.Arena;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Tests.Dma;

/// <summary>A small real page arena plus helpers to build sg tables over it and look at their bytes from the CPU.</summary>
internal sealed unsafe class DmaTestArena : IDisposable
{
    private readonly List<int> _fillers = [];

    public DmaTestArena(int pages = 256, int maxOrder = 10)
    {
        Arena = new PageArena(new PageArenaOptions
        {
            ArenaSize = (long)pages * Environment.SystemPageSize,
            MaxOrder = maxOrder,
            Name = "dma-test",
        });
    }

    public PageArena Arena { get; }

    public int PageSize => Arena.PageSize;

    /// <summary>
    /// Takes every free page one by one and frees every other one, so from now on allocations get
    /// scattered single pages and an sg table has one entry per page (orig_nents &gt; 1).
    /// </summary>
    public void Fragment()
    {
        var taken = new List<int>();
        while (Arena.TryAllocPages(0, out int page))
        {
            taken.Add(page);
        }

        taken.Sort();
        for (int i = 0; i < taken.Count; i++)
        {
            if (i % 2 == 0)
            {
                Arena.FreePage(taken[i]);
            }
            else
            {
                _fillers.Add(taken[i]);
            }
        }
    }

    /// <summary>Allocates <paramref name="pageCount"/> pages (compacted) and builds a table over them.</summary>
    public SgTable Table(int pageCount, out int[] pages, string owner, long? maxSegment = null, int offset = 0, long? size = null)
    {
        pages = CompactedAllocation.Allocate(Arena, pageCount);
        return SgTable.FromArenaPages(Arena, pages, offset, size ?? (((long)pageCount * PageSize) - offset),
            maxSegment ?? SgTable.DefaultMaxSegment(PageSize), owner);
    }

    public SgTable Table(int pageCount, string owner, long? maxSegment = null) => Table(pageCount, out _, owner, maxSegment);

    /// <summary>The CPU's view of the table's bytes, in order.</summary>
    public static byte[] CpuRead(SgTable sgt)
    {
        var result = new byte[sgt.Length];
        long at = 0;
        foreach (SgEntry e in sgt.Entries)
        {
            new ReadOnlySpan<byte>((void*)e.Cpu, checked((int)e.Length)).CopyTo(result.AsSpan((int)at));
            at += e.Length;
        }

        return result;
    }

    /// <summary>The CPU writes <paramref name="data"/> over the table from its first byte.</summary>
    public static void CpuWrite(SgTable sgt, ReadOnlySpan<byte> data)
    {
        long at = 0;
        foreach (SgEntry e in sgt.Entries)
        {
            if (at >= data.Length)
            {
                break;
            }

            int n = (int)Math.Min(e.Length, data.Length - at);
            data.Slice((int)at, n).CopyTo(new Span<byte>((void*)e.Cpu, n));
            at += n;
        }
    }

    /// <summary>The device writes <paramref name="data"/> through the table's DMA segments, segment by segment.</summary>
    public static void DeviceWrite(DmaSg.Memory.Dma.IDmaDevice device, SgTable sgt, ReadOnlySpan<byte> data)
    {
        long at = 0;
        foreach (DmaSegment s in sgt.Dma)
        {
            int n = (int)Math.Min(s.Length, data.Length - at);
            if (n <= 0)
            {
                break;
            }

            device.Write(s.Address, data.Slice((int)at, n));
            at += n;
        }
    }

    /// <summary>The device reads the whole table through its DMA segments.</summary>
    public static byte[] DeviceRead(DmaSg.Memory.Dma.IDmaDevice device, SgTable sgt)
    {
        var result = new byte[sgt.Length];
        long at = 0;
        foreach (DmaSegment s in sgt.Dma)
        {
            device.Read(s.Address, result.AsSpan((int)at, (int)s.Length));
            at += s.Length;
        }

        return result;
    }

    /// <summary>A recognizable pattern: byte i is (seed + i * 7) mod 251.</summary>
    public static byte[] Pattern(long length, int seed)
    {
        var bytes = new byte[length];
        for (long i = 0; i < length; i++)
        {
            bytes[i] = (byte)((seed + (i * 7)) % 251);
        }

        return bytes;
    }

    public void Dispose() => Arena.Dispose();
}
