using DmaSg.Memory.ScatterGather;

namespace DmaSg.Memory.Dma;

/// <summary>The misuses <see cref="DmaApiChecker"/> reports, after kernel/dma/debug.c.</summary>
public enum DmaApiViolationKind
{
    /// <summary>Unmap of memory that is not mapped: never mapped, or unmapped twice.</summary>
    NotMapped,

    /// <summary>Unmap with a different total length than mapped.</summary>
    UnmapSizeMismatch,

    /// <summary>Unmap with an entry count other than the orig_nents passed to map.</summary>
    UnmapNentsMismatch,

    /// <summary>Unmap with a different direction than mapped.</summary>
    UnmapDirectionMismatch,

    /// <summary>Sync of memory that is not mapped.</summary>
    SyncNotMapped,

    /// <summary>Sync of more bytes than the mapping holds.</summary>
    SyncOutsideRange,

    /// <summary>Sync with a different direction than mapped (not checked for Bidirectional mappings).</summary>
    SyncDirectionMismatch,

    /// <summary>Sync with an entry count other than orig_nents, e.g. sgt.Nents after an IOMMU merged entries.</summary>
    SyncNentsMismatch,

    /// <summary>ToDevice (device read-only) memory synced for the CPU as if the device had written it.</summary>
    SyncForCpuOfToDevice,

    /// <summary>FromDevice (device write-only) memory synced to the device as if the CPU had filled it.</summary>
    SyncForDeviceOfFromDevice,

    /// <summary>A device Read/Write at addresses no live mapping covers.</summary>
    AccessOutsideMapping,

    /// <summary>A device Write into ToDevice memory or Read of FromDevice memory.</summary>
    AccessAgainstDirection,

    /// <summary>Map of an sg entry longer than the device's max segment size.</summary>
    SegmentTooLong,

    /// <summary>Mappings still live when the device was removed.</summary>
    PendingOnRemove,
}

/// <summary>How <see cref="DmaApiChecker"/> reports a violation.</summary>
public enum DmaApiCheckerMode
{
    /// <summary>Record it and throw <see cref="DmaApiException"/>; the rejected call is not forwarded.</summary>
    Throw,

    /// <summary>Record it in <see cref="DmaApiChecker.Violations"/> and carry on, forwarding what is safe.</summary>
    Record,
}

/// <summary>One reported misuse. <see cref="Message"/> starts with "DMA-API: ", like the kernel's reports.</summary>
/// <param name="Kind">What went wrong.</param>
/// <param name="Device">dev_name() of the device.</param>
/// <param name="Owner">The table's owner (the buffer or attachment name); for PendingOnRemove, all owners.</param>
/// <param name="Message">The report.</param>
/// <param name="Mapping">The mapping involved as recorded at map time, or null when there is none.</param>
public sealed record DmaApiViolation(DmaApiViolationKind Kind, string Device, string Owner, string Message, string? Mapping)
{
    public override string ToString() => Mapping is null ? Message : $"{Message} [mapping: {Mapping}]";
}

/// <summary>A mapping as the checker recorded it when it was made.</summary>
public sealed record DmaMappingRecord(SgTable Table, string Owner, int OrigNents, int Nents, DmaDirection Direction, long Length, IReadOnlyList<DmaSegment> Segments)
{
    public override string ToString() =>
        $"{Owner}: {OrigNents} entries -> {Nents} segments, {Length} bytes {Direction}, at " +
        string.Join(" ", Segments.Select(s => $"0x{s.Address:x}+{s.Length}"));
}

/// <summary>Thrown by a <see cref="DmaApiChecker"/> in <see cref="DmaApiCheckerMode.Throw"/> mode.</summary>
public sealed class DmaApiException : DmaSgException
{
    public DmaApiException(IReadOnlyList<DmaApiViolation> violations)
        : base(DmaSgError.DmaApiViolation, string.Join("; ", (violations ?? throw new ArgumentNullException(nameof(violations))).Select(v => v.ToString())))
    {
        if (violations.Count == 0)
        {
            throw new ArgumentException("an exception needs at least one violation", nameof(violations));
        }

        Violations = violations;
    }

    /// <summary>The first violation of the call.</summary>
    public DmaApiViolation Violation => Violations[0];

    /// <summary>Every violation of the call (an unmap can have the wrong size, count and direction at once).</summary>
    public IReadOnlyList<DmaApiViolation> Violations { get; }

    public DmaApiViolationKind Kind => Violation.Kind;
}
