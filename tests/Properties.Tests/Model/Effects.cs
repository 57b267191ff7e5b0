namespace DmaSg.Properties.Tests.Model;

/// <summary>
/// Work the real system does after an operation has replied, when a <c>Terminated</c> reaches a watcher: the
/// model keeps it pending so the linearizability checker can place it anywhere after its cause. The sequential
/// model applies all of them before the next operation (that is what settling waits for).
/// </summary>
public abstract record Effect : IComparable<Effect>
{
    /// <summary>Orders effects by kind and fields (pending effects form a set; formatting strings to compare was too slow).</summary>
    public int CompareTo(Effect? other)
    {
        if (other is null)
        {
            return 1;
        }

        (int k, int a, int b) = Key();
        (int k2, int a2, int b2) = other.Key();
        return (k, a, b).CompareTo((k2, a2, b2));
    }

    private (int Kind, int A, int B) Key() => this switch
    {
        BufDropHolder e => (0, e.Buf, e.Holder),
        DBufDropHolder e => (1, e.DBuf, e.Holder),
        DBufDropAtt e => (2, e.DBuf, e.Att),
        AttHolderGone e => (3, e.Att, 0),
        ImpHolderGone e => (4, e.Imp, 0),
        ImpExporterGone e => (5, e.Imp, 0),
        _ => (9, 0, 0),
    };
}

/// <summary>The buffer saw a holder (a client, or one of its dmabufs) die: it drops that holder's refs and mappings.</summary>
public sealed record BufDropHolder(int Buf, int Holder) : Effect
{
    public override string ToString() => $"b{Buf} drops {Names.Holderish(Holder)}";
}

/// <summary>The dmabuf saw a holder die: it drops that holder's refs.</summary>
public sealed record DBufDropHolder(int DBuf, int Holder) : Effect
{
    public override string ToString() => $"d{DBuf} drops h{Holder}";
}

/// <summary>The dmabuf saw an attachment stop: its ref goes.</summary>
public sealed record DBufDropAtt(int DBuf, int Att) : Effect
{
    public override string ToString() => $"d{DBuf} drops a{Att}";
}

/// <summary>The attachment saw its holder (a client or an importer) die: it unmaps and stops.</summary>
public sealed record AttHolderGone(int Att) : Effect
{
    public override string ToString() => $"a{Att} loses its holder";
}

/// <summary>The importer saw its holder die: it stops.</summary>
public sealed record ImpHolderGone(int Imp) : Effect
{
    public override string ToString() => $"i{Imp} loses its holder";
}

/// <summary>The importer saw its attachment or dmabuf die: it is detached.</summary>
public sealed record ImpExporterGone(int Imp) : Effect
{
    public override string ToString() => $"i{Imp} loses its exporter";
}

/// <summary>How tags print: the kind letter comes from the table the tag lives in.</summary>
public static class Names
{
    /// <summary>Buffer holders are clients (h) or dmabufs (d); dmabuf tags are above the holder range.</summary>
    public static string Holderish(int tag) => tag < World.FirstObjectTag ? $"h{tag}" : $"d{tag}";
}
