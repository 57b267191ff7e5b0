namespace DmaSg.Memory.Dma;

/// <summary>enum dma_data_direction, with the kernel's values.</summary>
public enum DmaDirection
{
    Bidirectional = 0,
    ToDevice = 1,
    FromDevice = 2,

    /// <summary>Not a direction: invalid for mapping, the "not mapped" marker of a cached attachment.</summary>
    None = 3,
}

/// <summary>DMA_ATTR_* that matter here.</summary>
[Flags]
public enum DmaAttrs
{
    None = 0,

    /// <summary>DMA_ATTR_SKIP_CPU_SYNC: map/unmap without the implied cache sync (the bounce copy).</summary>
    SkipCpuSync = 1 << 5,
}

public static class DmaDirectionExtensions
{
    /// <summary>True for ToDevice, FromDevice and Bidirectional.</summary>
    public static bool IsValidForMapping(this DmaDirection dir) =>
        dir is DmaDirection.ToDevice or DmaDirection.FromDevice or DmaDirection.Bidirectional;

    /// <summary>Throws InvalidArgument for None or an out-of-range value.</summary>
    public static void ThrowIfInvalidForMapping(this DmaDirection dir)
    {
        if (!dir.IsValidForMapping())
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"direction {dir} is not valid for mapping");
        }
    }

    /// <summary>The device may read memory mapped this way (ToDevice, Bidirectional).</summary>
    public static bool DeviceReads(this DmaDirection dir) => dir is DmaDirection.ToDevice or DmaDirection.Bidirectional;

    /// <summary>The device may write memory mapped this way (FromDevice, Bidirectional).</summary>
    public static bool DeviceWrites(this DmaDirection dir) => dir is DmaDirection.FromDevice or DmaDirection.Bidirectional;
}
