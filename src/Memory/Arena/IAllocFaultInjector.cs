namespace DmaSg.Memory.Arena;

/// <summary>A test hook: decides whether a block allocation of <c>order</c> fails as if the arena were empty.</summary>
public interface IAllocFaultInjector
{
    bool ShouldFail(int order);
}

/// <summary>Fails the Nth block allocation (1-based) and, if set, every allocation of order &gt;= <see cref="FailOrderAtLeast"/>.</summary>
public sealed class AllocFaultInjector : IAllocFaultInjector
{
    private int _count;

    /// <summary>Fail the allocation with this 1-based sequence number; 0 disables.</summary>
    public int FailNth { get; init; }

    /// <summary>Fail every allocation of this order or higher; null disables.</summary>
    public int? FailOrderAtLeast { get; init; }

    /// <summary>Block allocations seen so far.</summary>
    public int Count => _count;

    public bool ShouldFail(int order)
    {
        _count++;
        return (FailNth > 0 && _count == FailNth) || (FailOrderAtLeast is { } k && order >= k);
    }
}
