namespace DmaSg.Memory.Dma;

/// <summary>
/// What <see cref="IDmaDevice.Remove"/> found still live: buffers holding a ref (get_device without
/// put_device) and mappings not yet unmapped, named by their owners.
/// </summary>
public sealed record DeviceRemovalReport(string Device, int LiveRefs, int LiveMappings, IReadOnlyList<string> MappingOwners)
{
    /// <summary>Nothing held the device when it went away.</summary>
    public bool IsClean => LiveRefs == 0 && LiveMappings == 0;

    public override string ToString() =>
        IsClean
            ? $"{Device}: removed cleanly"
            : $"{Device}: removed with {LiveRefs} live refs and {LiveMappings} live mappings" +
              (MappingOwners.Count > 0 ? $" ({string.Join(", ", MappingOwners)})" : string.Empty);
}
