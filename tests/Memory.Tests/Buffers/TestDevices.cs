using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Tests.Buffers;

/// <summary>The three device models, each behind a DMA-API checker that throws on misuse.</summary>
internal static class TestDevices
{
    public const string CoherentKind = "coherent";
    public const string IommuKind = "iommu";
    public const string BounceKind = "bounce";

    public static TheoryData<string> Kinds => new() { CoherentKind, IommuKind, BounceKind };

    public static DmaApiChecker Coherent(string name = "coherent", long? maxSegmentSize = null, long addressLimit = long.MaxValue) =>
        new(new CoherentDevice(name, maxSegmentSize, addressLimit));

    public static DmaApiChecker Iommu(string name = "iommu", long addressLimit = IommuDevice.DefaultAddressLimit) =>
        new(new IommuDevice(name, addressLimit: addressLimit));

    /// <summary>A bounce device with a small pool (the default 64 MiB is more than these tests move).</summary>
    public static DmaApiChecker Bounce(string name = "bounce", long poolSize = 4L << 20) =>
        new(new BounceDevice(name, poolSize));

    public static DmaApiChecker Create(string kind) => kind switch
    {
        CoherentKind => Coherent(),
        IommuKind => Iommu(),
        BounceKind => Bounce(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}

/// <summary>A device that claims a larger max segment than the one it wraps can map: the map itself must fail.</summary>
internal sealed class LyingSegmentDevice(IDmaDevice inner, long claimedMaxSegment) : IDmaDevice
{
    public string Name => inner.Name;

    public long MaxSegmentSize => claimedMaxSegment;

    public long AddressLimit => inner.AddressLimit;

    public int RefCount => inner.RefCount;

    public int LiveMappings => inner.LiveMappings;

    public bool IsRemoved => inner.IsRemoved;

    public int MapSg(SgTable sgt, DmaDirection dir, DmaAttrs attrs = DmaAttrs.None) => inner.MapSg(sgt, dir, attrs);

    public void UnmapSg(SgTable sgt, int nents, DmaDirection dir, DmaAttrs attrs = DmaAttrs.None) => inner.UnmapSg(sgt, nents, dir, attrs);

    public void SyncSgForDevice(SgTable sgt, int nents, DmaDirection dir) => inner.SyncSgForDevice(sgt, nents, dir);

    public void SyncSgForCpu(SgTable sgt, int nents, DmaDirection dir) => inner.SyncSgForCpu(sgt, nents, dir);

    public void Read(long dmaAddress, Span<byte> destination) => inner.Read(dmaAddress, destination);

    public void Write(long dmaAddress, ReadOnlySpan<byte> source) => inner.Write(dmaAddress, source);

    public void Get() => inner.Get();

    public void Put() => inner.Put();

    public DeviceRemovalReport Remove() => inner.Remove();
}
