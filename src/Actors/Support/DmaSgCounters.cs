namespace DmaSg.Actors.Support;

/// <summary>
/// Counters shared by the actors of one allocator, updated with Interlocked (no locks) and read by
/// stats and metrics from any thread.
/// </summary>
internal sealed class DmaSgCounters
{
    public int Buffers;
    public int DmaBufs;
    public int Attachments;
    public int Importers;
    public int Mmaps;
    public int AttachmentMappings;
    public int FdExports;
    public long Allocations;
    public long AllocationFailures;
    public long PagesReclaimed;
    public long Maps;
    public long Unmaps;
    public long FreePages;

    public static void Inc(ref int field) => Interlocked.Increment(ref field);

    public static void Dec(ref int field) => Interlocked.Decrement(ref field);

    public static void Inc(ref long field) => Interlocked.Increment(ref field);

    public static int Read(ref int field) => Volatile.Read(ref field);

    public static long Read(ref long field) => Interlocked.Read(ref field);
}
