using DmaSg.Properties.Tests.Sut;

namespace DmaSg.Properties.Tests.Support;

/// <summary>Counters over every case run in this process: what the soak mode reports.</summary>
public static class CaseStats
{
    private static long _cases;
    private static long _ops;
    private static int _longest;
    private static LeakCounts _leaks = new(0, 0, 0, 0);
    private static readonly System.Threading.Lock Gate = new();

    public static long Cases => Interlocked.Read(ref _cases);

    public static long Ops => Interlocked.Read(ref _ops);

    public static int Longest => Volatile.Read(ref _longest);

    public static LeakCounts Leaks
    {
        get
        {
            lock (Gate)
            {
                return _leaks;
            }
        }
    }

    public static void Record(Sut.Sut sut) => Record(sut.Ops, sut.Leaks);

    public static void Record(int ops, LeakCounts leaks)
    {
        Interlocked.Increment(ref _cases);
        Interlocked.Add(ref _ops, ops);
        int longest;
        while (ops > (longest = Volatile.Read(ref _longest)) && Interlocked.CompareExchange(ref _longest, ops, longest) != longest)
        {
        }

        lock (Gate)
        {
            _leaks += leaks;
        }
    }
}
