using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Model = DmaSg.Memory.Tests.Dma.DmaApiCheckerTests.Model;

namespace DmaSg.Memory.Tests.Dma;

/// <summary>
/// Any sequence of map/sync/unmap calls, legal or not, on a few tables against a checker-wrapped device of
/// each model: the checker's verdict for each call matches a small model (mapped? direction? orig_nents?),
/// rejected calls change nothing, and once everything is unmapped no mapping, IOVA range or bounce slot is left.
/// </summary>
public sealed class DmaApiCheckerProperties
{
    public enum OpKind
    {
        Map,
        Unmap,
        SyncForDevice,
        SyncForCpu,
    }

    /// <summary>Which entry count a call passes.</summary>
    public enum Count
    {
        Orig,
        One,

        /// <summary>sgt.Nents while mapped: right for Coherent/Bounce, wrong after an IOMMU merge.</summary>
        Mapped,
        TooMany,
    }

    private const int Tables = 3;

    // Table 0 has several scattered entries, table 1 one page, table 2 one entry longer than the device allows.
    private const int TooLongTable = 2;

    private static readonly Gen<Op> OpGen =
        from kind in Gen.Elements(OpKind.Map, OpKind.Map, OpKind.Unmap, OpKind.Unmap, OpKind.SyncForDevice, OpKind.SyncForCpu)
        from table in Gen.Elements(0, 0, 1, 1, TooLongTable)
        from dir in Gen.Elements(DmaDirection.ToDevice, DmaDirection.FromDevice, DmaDirection.Bidirectional, DmaDirection.None)
        from count in Gen.Elements(Count.Orig, Count.Orig, Count.One, Count.Mapped, Count.TooMany)
        from skip in Gen.Elements(false, true)
        select new Op(kind, table, dir, count, skip);

    private static readonly Arbitrary<(Model Model, Op[] Ops)> Scenario =
        (from model in Gen.Elements(Model.Coherent, Model.Iommu, Model.Bounce)
         from ops in Gen.ArrayOf(OpGen)
         select (model, ops)).ToArbitrary();

    [Property(MaxTest = 150)]
    public Property CheckerVerdictMatchesTheModelAndNothingLeaks() =>
        Prop.ForAll(Scenario, s => Run(s.Model, s.Ops));

    private static bool Run(Model model, Op[] ops)
    {
        int page = Environment.SystemPageSize;
        long maxSegment = model == Model.Bounce ? BounceDevice.MaxMappingSize : 4L * page;
        int longPages = (int)(2 * maxSegment / page);
        using var t = new DmaTestArena(longPages + 256);

        // The long table first, while the arena still has a block that size; then scatter the rest.
        SgTable tooLong = t.Table(longPages, "t2");
        t.Fragment();
        SgTable[] tables = [t.Table(3, "t0"), t.Table(1, "t1"), tooLong];

        DmaDevice device = model switch
        {
            Model.Coherent => new CoherentDevice("coherent", maxSegment),
            Model.Iommu => new IommuDevice("iommu", maxSegmentSize: maxSegment),
            _ => new BounceDevice("bounce", 4L << 20),
        };
        using var checker = new DmaApiChecker(device);
        var state = new TableState[Tables];
        int expectedViolations = 0;
        var log = new List<string>();

        for (int i = 0; i < ops.Length; i++)
        {
            Op op = ops[i];
            SgTable sgt = tables[op.Table];
            TableState st = state[op.Table];
            int nents = op.Count switch
            {
                Count.Orig => sgt.OrigNents,
                Count.One => 1,
                Count.Mapped => sgt.IsMapped ? sgt.Nents : sgt.OrigNents,
                _ => sgt.OrigNents + 1,
            };

            Outcome expected = Expect(model, op, st, sgt, nents);
            Outcome actual = Perform(checker, op, sgt, nents);
            log.Add($"{i}: {op} nents={nents} -> expected {expected}, got {actual}");
            if (expected != actual)
            {
                throw new InvalidOperationException($"{model}: verdict differs\n{string.Join("\n", log)}");
            }

            expectedViolations += expected.Kinds?.Length ?? 0;
            if (expected.Kinds is null && expected.Error is null)
            {
                state[op.Table] = op.Kind switch
                {
                    OpKind.Map => new TableState(true, op.Dir),
                    OpKind.Unmap => default,
                    _ => st,
                };
            }

            for (int k = 0; k < Tables; k++)
            {
                if (tables[k].IsMapped != state[k].Mapped)
                {
                    throw new InvalidOperationException($"{model}: table {k} IsMapped={tables[k].IsMapped}, model says {state[k].Mapped}\n{string.Join("\n", log)}");
                }
            }

            int live = state.Count(s => s.Mapped);
            if (checker.LiveMappings != live || device.LiveMappings != live)
            {
                throw new InvalidOperationException($"{model}: {checker.LiveMappings} checker / {device.LiveMappings} device mappings, model {live}\n{string.Join("\n", log)}");
            }
        }

        if (checker.Violations.Count != expectedViolations)
        {
            throw new InvalidOperationException($"{model}: {checker.Violations.Count} violations recorded, {expectedViolations} expected\n{string.Join("\n", log)}");
        }

        for (int k = 0; k < Tables; k++)
        {
            if (state[k].Mapped)
            {
                checker.UnmapSg(tables[k], tables[k].OrigNents, state[k].Dir);
            }
        }

        long held = device switch
        {
            IommuDevice iommu => iommu.IovaBytesInUse,
            BounceDevice bounce => bounce.BounceBytesInUse,
            _ => 0,
        };
        return checker.LiveMappings == 0 && device.LiveMappings == 0 && held == 0 &&
               tables.All(x => !x.IsMapped) && checker.Violations.Count == expectedViolations;
    }

    private static Outcome Expect(Model model, Op op, TableState st, SgTable sgt, int nents)
    {
        switch (op.Kind)
        {
            case OpKind.Map:
                if (op.Table == TooLongTable)
                {
                    return Outcome.Violated(DmaApiViolationKind.SegmentTooLong);
                }

                if (!op.Dir.IsValidForMapping() || st.Mapped)
                {
                    return Outcome.Failed(DmaSgError.InvalidArgument);
                }

                return Outcome.Mapped(model == Model.Iommu ? 1 : sgt.OrigNents);

            case OpKind.Unmap:
            {
                if (!st.Mapped)
                {
                    return Outcome.Violated(DmaApiViolationKind.NotMapped);
                }

                var kinds = new List<DmaApiViolationKind>();
                if (nents != sgt.OrigNents)
                {
                    kinds.Add(DmaApiViolationKind.UnmapNentsMismatch);
                }

                if (op.Dir != st.Dir)
                {
                    kinds.Add(DmaApiViolationKind.UnmapDirectionMismatch);
                }

                return kinds.Count > 0 ? Outcome.Violated([.. kinds]) : Outcome.Ok;
            }

            default:
            {
                bool toCpu = op.Kind == OpKind.SyncForCpu;
                if (!st.Mapped)
                {
                    return Outcome.Violated(DmaApiViolationKind.SyncNotMapped);
                }

                var kinds = new List<DmaApiViolationKind>();
                if (st.Dir != DmaDirection.Bidirectional)
                {
                    if (op.Dir != st.Dir)
                    {
                        kinds.Add(DmaApiViolationKind.SyncDirectionMismatch);
                    }

                    if (toCpu && st.Dir == DmaDirection.ToDevice && op.Dir != DmaDirection.ToDevice)
                    {
                        kinds.Add(DmaApiViolationKind.SyncForCpuOfToDevice);
                    }

                    if (!toCpu && st.Dir == DmaDirection.FromDevice && op.Dir != DmaDirection.FromDevice)
                    {
                        kinds.Add(DmaApiViolationKind.SyncForDeviceOfFromDevice);
                    }
                }

                if (nents != sgt.OrigNents)
                {
                    kinds.Add(DmaApiViolationKind.SyncNentsMismatch);
                }

                if (kinds.Count > 0)
                {
                    return Outcome.Violated([.. kinds]);
                }

                // Nothing for the checker to object to; the device still refuses a non-direction.
                return op.Dir.IsValidForMapping() ? Outcome.Ok : Outcome.Failed(DmaSgError.InvalidArgument);
            }
        }
    }

    private static Outcome Perform(DmaApiChecker checker, Op op, SgTable sgt, int nents)
    {
        DmaAttrs attrs = op.SkipCpuSync ? DmaAttrs.SkipCpuSync : DmaAttrs.None;
        try
        {
            switch (op.Kind)
            {
                case OpKind.Map:
                    return Outcome.Mapped(checker.MapSg(sgt, op.Dir, attrs));
                case OpKind.Unmap:
                    checker.UnmapSg(sgt, nents, op.Dir, attrs);
                    break;
                case OpKind.SyncForDevice:
                    checker.SyncSgForDevice(sgt, nents, op.Dir);
                    break;
                default:
                    checker.SyncSgForCpu(sgt, nents, op.Dir);
                    break;
            }

            return Outcome.Ok;
        }
        catch (DmaApiException ex)
        {
            return Outcome.Violated([.. ex.Violations.Select(v => v.Kind)]);
        }
        catch (DmaSgException ex)
        {
            return Outcome.Failed(ex.Error);
        }
    }

    public sealed record Op(OpKind Kind, int Table, DmaDirection Dir, Count Count, bool SkipCpuSync);

    private readonly record struct TableState(bool Mapped, DmaDirection Dir);

    /// <summary>Ok (with the nents a map returned), a DMA-API verdict (its kinds, in report order), or a device error.</summary>
    private sealed record Outcome(int? Nents, DmaApiViolationKind[]? Kinds, DmaSgError? Error)
    {
        public static readonly Outcome Ok = new(null, null, null);

        public static Outcome Mapped(int nents) => new(nents, null, null);

        public static Outcome Violated(params DmaApiViolationKind[] kinds) => new(null, kinds, null);

        public static Outcome Failed(DmaSgError error) => new(null, null, error);

        public bool Equals(Outcome? other) =>
            other is not null && Nents == other.Nents && Error == other.Error &&
            (Kinds is null ? other.Kinds is null : other.Kinds is not null && Kinds.SequenceEqual(other.Kinds));

        public override int GetHashCode() => HashCode.Combine(Nents, Error, Kinds?.Length);

        public override string ToString() =>
            Kinds is not null ? $"violation [{string.Join(", ", Kinds)}]" :
            Error is not null ? $"error {Error}" :
            Nents is not null ? $"mapped, nents={Nents}" : "ok";
    }
}
