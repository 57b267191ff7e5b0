using DmaSg.Memory;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Properties.Tests.Sut;

/// <summary>
/// A device whose next map can be made to fail, as a full bounce pool or IOVA space would. It sits under the
/// DMA-API checker, so a refused map leaves no record there either.
/// </summary>
public sealed class FaultyDevice(IDmaDevice inner) : IDmaDevice, IDisposable
{
    private int _armed;

    public IDmaDevice Inner => inner;

    public string Name => inner.Name;

    public long MaxSegmentSize => inner.MaxSegmentSize;

    public long AddressLimit => inner.AddressLimit;

    public int RefCount => inner.RefCount;

    public int LiveMappings => inner.LiveMappings;

    public bool IsRemoved => inner.IsRemoved;

    public bool IsArmed => Volatile.Read(ref _armed) == 1;

    /// <summary>The next <see cref="MapSg"/> throws OutOfMemory and maps nothing.</summary>
    public void ArmMapFault() => Volatile.Write(ref _armed, 1);

    public void Disarm() => Volatile.Write(ref _armed, 0);

    public int MapSg(SgTable sgt, DmaDirection dir, DmaAttrs attrs = DmaAttrs.None)
    {
        if (Interlocked.Exchange(ref _armed, 0) == 1)
        {
            throw new DmaSgException(DmaSgError.OutOfMemory, $"{Name}: injected map failure for {sgt.Owner}");
        }

        return inner.MapSg(sgt, dir, attrs);
    }

    public void UnmapSg(SgTable sgt, int nents, DmaDirection dir, DmaAttrs attrs = DmaAttrs.None) => inner.UnmapSg(sgt, nents, dir, attrs);

    public void SyncSgForDevice(SgTable sgt, int nents, DmaDirection dir) => inner.SyncSgForDevice(sgt, nents, dir);

    public void SyncSgForCpu(SgTable sgt, int nents, DmaDirection dir) => inner.SyncSgForCpu(sgt, nents, dir);

    public void Read(long dmaAddress, Span<byte> destination) => inner.Read(dmaAddress, destination);

    public void Write(long dmaAddress, ReadOnlySpan<byte> source) => inner.Write(dmaAddress, source);

    public void Get() => inner.Get();

    public void Put() => inner.Put();

    public DeviceRemovalReport Remove() => inner.Remove();

    public void Dispose() => (inner as IDisposable)?.Dispose();
}

/// <summary>Fails page-block allocations of the arena on demand: the Nth from arming, or all of them.</summary>
public sealed class SwitchableFaultInjector : Memory.Arena.IAllocFaultInjector
{
    private int _failAt = -1;
    private int _count;

    /// <summary>Block allocations seen since the last <see cref="Arm"/>.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Fail the <paramref name="nth"/> block allocation from now (1-based); 0 fails every one.</summary>
    public void Arm(int nth)
    {
        Volatile.Write(ref _count, 0);
        Volatile.Write(ref _failAt, nth);
    }

    public void Disarm() => Volatile.Write(ref _failAt, -1);

    public bool ShouldFail(int order)
    {
        int failAt = Volatile.Read(ref _failAt);
        if (failAt < 0)
        {
            return false;
        }

        int n = Interlocked.Increment(ref _count);
        return failAt == 0 || n == failAt;
    }
}
