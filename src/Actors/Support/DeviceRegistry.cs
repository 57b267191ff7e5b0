using System.Collections.Immutable;
using DmaSg.Memory;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Support;

/// <summary>
/// The devices of one allocator by name, read by every actor under it. An immutable map swapped
/// atomically: lookups never block and there is no lock.
/// </summary>
internal sealed class DeviceRegistry
{
    private ImmutableDictionary<string, DeviceEntry> _devices = ImmutableDictionary<string, DeviceEntry>.Empty.WithComparers(StringComparer.Ordinal);

    public IReadOnlyCollection<DeviceEntry> All => _devices.Values.ToArray();

    /// <summary>Adds a device; InvalidArgument when the name is taken.</summary>
    public void Add(IDmaDevice device, string model, bool owned)
    {
        var entry = new DeviceEntry(device, model, owned);
        if (!ImmutableInterlocked.TryAdd(ref _devices, device.Name, entry))
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"a device named \"{device.Name}\" is already registered");
        }
    }

    /// <summary>The device named <paramref name="name"/>; InvalidArgument when there is none.</summary>
    public IDmaDevice Get(string? name)
    {
        if (name is null || !_devices.TryGetValue(name, out DeviceEntry? entry))
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"no device named \"{name}\"");
        }

        return entry.Device;
    }

    public int LiveMappings => _devices.Values.Sum(d => d.Device.LiveMappings);
}

/// <summary>A registered device, its model name, and whether the allocator disposes it.</summary>
internal sealed record DeviceEntry(IDmaDevice Device, string Model, bool Owned)
{
    public int Violations => (Device as DmaApiChecker)?.Violations.Count ?? 0;
}
