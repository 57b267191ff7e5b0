using Akka.Actor;
using DmaSg.Memory;
using DmaSg.Memory.Dma;

namespace DmaSg.Properties.Tests.Model;

/// <summary>
/// One user-level call: what the model predicts (<see cref="Step"/>, pure) and what the real system answers
/// (<see cref="Execute"/>). <see cref="Call"/> is how it prints in a counterexample.
/// </summary>
public abstract class Op
{
    /// <summary>The call as a user writes it (protocol message on an actor, named by model tags).</summary>
    public abstract string Call { get; }

    /// <summary>Tags this call needs to exist (holders always do).</summary>
    public virtual IEnumerable<int> Uses => [];

    /// <summary>Tags this call creates when it succeeds.</summary>
    public virtual IEnumerable<int> Creates => [];

    /// <summary>
    /// False for calls whose reply the model cannot predict when other calls race with it (device accesses may land
    /// on an IOVA another mapping reused; a one-shot fault switch for page blocks is shared).
    /// </summary>
    public virtual bool RaceSafe => true;

    /// <summary>
    /// Whether the call still means what it was generated for in <paramref name="w"/> (shrinking removes earlier
    /// calls): its objects exist and its tags are free.
    /// </summary>
    public bool Pre(World w) => Uses.All(w.Exists) && !Creates.Any(w.Exists) && Holds(w);

    /// <summary>
    /// How the call appears to the linearizability checker: normally as itself, one atomic step; a call whose effects
    /// happen at two moments (inside one reply) as several steps, one of which gets the reply.
    /// </summary>
    public virtual IReadOnlyList<Op> LinearizationSteps => [this];

    /// <summary>Which of <see cref="LinearizationSteps"/> the reply belongs to (the others answer Done).</summary>
    public virtual int ReplyStep => LinearizationSteps.Count - 1;

    /// <summary>
    /// What of a reply the parallel property compares: all of it, except where the reply is a snapshot of counters
    /// that other threads change in several steps (the model makes each of their calls one step).
    /// </summary>
    public virtual Outcome UnderRaces(Outcome reply) => reply;

    /// <summary>The device this call would DMA-map on in <paramref name="w"/>, if it maps at all (where a map fault hits).</summary>
    public virtual string? MapsOn(World w) => null;

    /// <summary>A call's own precondition beyond the existence of its objects.</summary>
    protected virtual bool Holds(World w) => true;

    /// <summary>
    /// The possible results: normally one; two where the real system may legitimately answer either way, depending on
    /// whether a DeathWatch notification has arrived yet.
    /// </summary>
    public IReadOnlyList<(World World, Outcome Outcome)> Step(World w)
    {
        if (!Uses.All(w.Exists))
        {
            return [(w, Outcome.Unbound)];
        }

        // A tag is spent even when the creation fails, so no other call can ever create it: a reference stays
        // unambiguous when shrinking removes calls.
        int last = Creates.DefaultIfEmpty(0).Max();
        return Model(w).Select(r => (r.Item1.WithTag(last), r.Item2)).ToArray();
    }

    /// <summary>Performs the call on the real system (through the protocol only) and reduces the reply.</summary>
    public async Task<Outcome> Execute(Sut.Sut sut)
    {
        if (!Uses.All(t => t < World.FirstObjectTag || sut.IsBound(t) || ResolvesLate(t)))
        {
            return Outcome.Unbound;
        }

        return await Real(sut).ConfigureAwait(false);
    }

    public override string ToString() => Call;

    protected abstract IEnumerable<(World, Outcome)> Model(World w);

    protected abstract Task<Outcome> Real(Sut.Sut sut);

    /// <summary>True for a tag the real call can find by itself (an importer's attachment).</summary>
    protected virtual bool ResolvesLate(int tag) => false;

    protected static IEnumerable<(World, Outcome)> One(World w, Outcome o) => [(w, o)];

    protected static IEnumerable<(World, Outcome)> Fail(World w, DmaSgError e) => [(w, Outcome.Err(e))];

    protected static string H(int h) => $"h{h}";

    protected static string Dir(DmaDirection d) => d.ToString();

    protected static IActorRef Actor(Sut.Sut sut, int tag) => sut.TryGet(tag, out IActorRef a) ? a : ActorRefs.Nobody;

    /// <summary>Pages for a byte count as Sizes.PageCount computes them; null where it answers InvalidArgument.</summary>
    public static int? PagesFor(long size, int pageSize)
    {
        if (size <= 0 || size > long.MaxValue - (pageSize - 1))
        {
            return null;
        }

        long pages = (size + pageSize - 1) / pageSize;
        return pages > int.MaxValue ? null : (int)pages;
    }

    /// <summary>
    /// A device access through a live mapping of <paramref name="buf"/>'s memory made <paramref name="via"/>: fine when
    /// that mapping allows it, or (coherent only, where every mapping of the same pages has the same addresses) when
    /// another live mapping on the device does; otherwise the checker reports it against the direction.
    /// </summary>
    protected static (World, Outcome) DeviceAccess(World w, string dev, int buf, DmaDirection via, bool write, int count)
    {
        Outcome ok = write ? Outcome.BytesWritten(count) : Outcome.BytesRead(count);
        if (count == 0)
        {
            return (w, ok);
        }

        bool Allows(DmaDirection d) => write ? d.DeviceWrites() : d.DeviceReads();
        if (Allows(via))
        {
            return (w, ok);
        }

        if (w.Devs[dev].Model == Actors.DeviceModel.Coherent)
        {
            BufM b = w.Bufs[buf];
            bool covered = (b.Dev == dev && !b.Released && Allows(b.Dir)) ||
                w.Atts.Values.Any(a => a.Alive && a.Dev == dev && a.Dir != DmaDirection.None && Allows(a.Dir) && w.DBufs[a.DBuf].Buf == buf);
            if (covered)
            {
                return (w, ok);
            }
        }

        DevM d = w.Devs[dev];
        return (w.Set(d with { Violations = d.Violations + 1 }), Outcome.Violation(DmaApiViolationKind.AccessAgainstDirection));
    }
}
