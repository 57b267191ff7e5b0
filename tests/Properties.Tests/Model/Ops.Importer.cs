using DmaSg.Actors.Protocol;
using DmaSg.Memory;
using DmaSg.Memory.Dma;

namespace DmaSg.Properties.Tests.Model;

/// <summary>A call on an importer actor: UseAfterRelease once it stopped.</summary>
public abstract class ImporterOp(int imp) : Op
{
    protected int Imp => imp;

    public override IEnumerable<int> Uses => [imp];

    protected sealed override IEnumerable<(World, Outcome)> Model(World w)
    {
        ImpM i = w.Imps[imp];
        return i.State == ImpState.Stopped ? Fail(w, DmaSgError.UseAfterRelease) : Live(w, i);
    }

    protected abstract IEnumerable<(World, Outcome)> Live(World w, ImpM i);

    protected override async Task<Outcome> Real(Sut.Sut sut) =>
        Outcome.Of(await sut.Ask(Actor(sut, imp), Request).ConfigureAwait(false));

    protected abstract IDmaSgRequest Request { get; }

    /// <summary>
    /// The importer asked its attachment and found it dead (DeathWatch answers for it): it is detached now, whether
    /// or not its own notification had arrived.
    /// </summary>
    protected static World Detached(World w, ImpM i) => w.Set(i with { State = ImpState.Detached, HasVaddr = false });

    protected static bool AttDead(World w, ImpM i) => !w.Atts[i.Att].Alive;
}

/// <summary>map_dmabuf (Pin): maps the attachment in the importer's direction; twice warns and succeeds.</summary>
public sealed class PinOp(int imp) : ImporterOp(imp)
{
    public override string Call => $"i{Imp}.Pin()";

    public override string? MapsOn(World w) => w.Imps.TryGetValue(Imp, out ImpM? i) ? i.Dev : null;

    protected override IDmaSgRequest Request => Pin.Instance;

    protected override IEnumerable<(World, Outcome)> Live(World w, ImpM i)
    {
        switch (i.State)
        {
            case ImpState.Pinned:
                return One(w, Outcome.Pinned(already: true));
            case ImpState.Detached:
                return Fail(w, DmaSgError.NotAttached);
        }

        if (AttDead(w, i))
        {
            return Fail(Detached(w, i), DmaSgError.NotAttached);
        }

        AttM a = w.Atts[i.Att];
        if (a.Dir != i.Dir)
        {
            DevM dev = w.Devs[a.Dev];
            if (dev.MapFault || dev.Removed)
            {
                return Fail(w.Set(dev with { MapFault = false }).Set(a with { Dir = DmaDirection.None }), DmaSgError.Io);
            }

            w = w.Set(a with { Dir = i.Dir });
        }

        return One(w.Set(i with { State = ImpState.Pinned, HasVaddr = false }), Outcome.Pinned(already: false));
    }
}

/// <summary>unmap_dmabuf (Unpin): NotPinned when not pinned; the attachment keeps its cached mapping.</summary>
public sealed class UnpinOp(int imp) : ImporterOp(imp)
{
    public override string Call => $"i{Imp}.Unpin()";

    protected override IDmaSgRequest Request => Unpin.Instance;

    protected override IEnumerable<(World, Outcome)> Live(World w, ImpM i) => i.State switch
    {
        ImpState.Attached => Fail(w, DmaSgError.NotPinned),
        ImpState.Detached => Fail(w, DmaSgError.NotAttached),
        _ when AttDead(w, i) => Fail(Detached(w, i), DmaSgError.NotAttached),
        _ => One(w.Set(i with { State = ImpState.Attached, HasVaddr = false }), Outcome.Done),
    };
}

/// <summary>
/// detach_dmabuf (Detach on the importer): unpins first if pinned, detaches its attachment, stops. When the exporter
/// is already gone there is nothing left to undo: it still answers Done and stops.
/// </summary>
public sealed class ImpDetachOp(int imp) : ImporterOp(imp)
{
    public override string Call => $"i{Imp}.Detach()";

    protected override IDmaSgRequest Request => Detach.Instance;

    protected override IEnumerable<(World, Outcome)> Live(World w, ImpM i)
    {
        World stopped = w.Set(i with { State = ImpState.Stopped, HasVaddr = false });
        return i.State == ImpState.Detached || AttDead(w, i) ? One(stopped, Outcome.Done) : One(stopped.StopAtt(i.Att), Outcome.Done);
    }
}

/// <summary>vaddr of an importer: the dmabuf's vmap, cached until the next pin or unpin.</summary>
public sealed class ImpVaddrOp(int imp) : ImporterOp(imp)
{
    public override string Call => $"i{Imp}.Vaddr()";

    protected override IDmaSgRequest Request => GetVaddr.Instance;

    protected override IEnumerable<(World, Outcome)> Live(World w, ImpM i)
    {
        if (!i.IsAttached)
        {
            return Fail(w, DmaSgError.NotAttached);
        }

        if (i.HasVaddr)
        {
            return One(w, Outcome.Vaddr(i.Size));
        }

        DBufM d = w.DBufs[i.DBuf];
        if (d.Released)
        {
            // The dmabuf was killed: dead (DeathWatch answers NotAttached), or still stopping (it answers itself).
            return [(Detached(w, i), Outcome.Err(DmaSgError.NotAttached)), (w, Outcome.Err(DmaSgError.UseAfterRelease))];
        }

        BufM b = w.Bufs[d.Buf];
        return One(w.Set(b with { HasVaddr = true }).Set(i with { HasVaddr = true }), Outcome.Vaddr(i.Size));
    }
}

/// <summary>Importer calls that only read its state: cookie (the pinned table), prepare and finish (no-ops).</summary>
public sealed class ImpQueryOp(int imp, string what) : ImporterOp(imp)
{
    public override string Call => $"i{Imp}.{what}()";

    protected override IDmaSgRequest Request => what switch
    {
        "Cookie" => GetCookie.Instance,
        "Prepare" => Prepare.Instance,
        _ => Finish.Instance,
    };

    protected override IEnumerable<(World, Outcome)> Live(World w, ImpM i) => what switch
    {
        "Cookie" => i.State == ImpState.Pinned ? One(w, Outcome.Cookie(mapped: true)) : Fail(w, DmaSgError.NotPinned),
        _ => One(w, Outcome.Done),
    };
}

/// <summary>The importing device reads or writes through its pinned mapping.</summary>
public sealed class ImpDeviceAccessOp(int imp, long offset, int count, bool write) : ImporterOp(imp)
{
    public override string Call => $"i{Imp}.Device{(write ? "Write" : "Read")}({offset}, {count})";

    public override bool RaceSafe => false;

    protected override IDmaSgRequest Request => write ? new DmaWrite(offset, new byte[count]) : new DmaRead(offset, count);

    protected override IEnumerable<(World, Outcome)> Live(World w, ImpM i)
    {
        if (i.State != ImpState.Pinned)
        {
            return Fail(w, DmaSgError.NotPinned);
        }

        if (count < 0)
        {
            return Fail(w, DmaSgError.InvalidArgument);
        }

        if (offset < 0 || offset > i.Size || count > i.Size - offset)
        {
            return Fail(w, DmaSgError.Fault);
        }

        return [DeviceAccess(w, i.Dev, w.DBufs[i.DBuf].Buf, i.Dir, write, count)];
    }
}
