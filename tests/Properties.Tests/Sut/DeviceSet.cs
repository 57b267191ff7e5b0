using DmaSg.Actors;
using DmaSg.Memory.Dma;
using DmaSg.Properties.Tests.Model;

namespace DmaSg.Properties.Tests.Sut;

/// <summary>
/// The three device models, each as checker -> fault switch -> device. Building a bounce pool costs more than a
/// whole short case, so one set serves case after case; <see cref="TryReset"/> proves it idle between cases and a
/// set that is not (after a failed case) is thrown away.
/// </summary>
public sealed class DeviceSet : IDisposable
{
    /// <summary>Bounce memory: 32 arenas of the largest size the generators make, so only an injected fault fills it.</summary>
    public const long BouncePool = 8L << 20;

    private readonly Dictionary<string, (DmaApiChecker Checker, FaultyDevice Faults)> _devices = [];

    public DeviceSet()
    {
        foreach ((string name, DeviceModel model) in World.DeviceModels)
        {
            IDmaDevice inner = model switch
            {
                DeviceModel.Coherent => new CoherentDevice(name),
                DeviceModel.Iommu => new IommuDevice(name),
                _ => new BounceDevice(name, BouncePool),
            };
            var faults = new FaultyDevice(inner);
            _devices[name] = (new DmaApiChecker(faults, DmaApiCheckerMode.Throw), faults);
        }
    }

    public IReadOnlyList<IDmaDevice> Devices => _devices.Values.Select(d => (IDmaDevice)d.Checker).ToArray();

    public DmaApiChecker Checker(string name) => _devices[name].Checker;

    public FaultyDevice Faults(string name) => _devices[name].Faults;

    /// <summary>Disarms faults and forgets reports; false when a device still has refs or mappings, or was unplugged.</summary>
    public bool TryReset()
    {
        bool idle = true;
        foreach ((DmaApiChecker checker, FaultyDevice faults) in _devices.Values)
        {
            faults.Disarm();
            checker.Clear();
            idle &= checker.RefCount == 0 && checker.LiveMappings == 0 && faults.Inner.LiveMappings == 0 && !checker.IsRemoved;
        }

        return idle;
    }

    public void Dispose()
    {
        foreach ((DmaApiChecker checker, _) in _devices.Values)
        {
            checker.Dispose();
        }
    }
}
