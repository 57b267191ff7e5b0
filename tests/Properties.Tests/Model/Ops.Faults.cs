using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Properties.Tests.Support;

namespace DmaSg.Properties.Tests.Model;

/// <summary>Which kind of actor a kill is aimed at.</summary>
public enum Target
{
    Buffer,
    DmaBuf,
    Attachment,
    Importer,
}

/// <summary>
/// Actor failure: a buffer, dmabuf, attachment or importer actor is stopped or killed from outside, mid-sequence.
/// The call returns once DeathWatch has seen it gone (children go first). Killing what is already gone does nothing.
/// </summary>
public sealed class KillOp(Target target, int tag, StopMode mode) : Op
{
    private static readonly string[] Letters = ["b", "d", "a", "i"];

    public override string Call => $"{mode.ToString().ToLowerInvariant()} {Letters[(int)target]}{tag}";

    public override IEnumerable<int> Uses => [tag];

    protected override bool ResolvesLate(int t) => target == Target.Attachment;

    protected override IEnumerable<(World, Outcome)> Model(World w) => One(target switch
    {
        Target.Buffer => w.KillBuf(tag),
        Target.DmaBuf => w.KillDBuf(tag, bufferNotices: true),
        Target.Attachment => w.StopAtt(tag),
        _ => w.StopImp(tag),
    }, Outcome.Stopped);

    protected override async Task<Outcome> Real(Sut.Sut sut)
    {
        if (!sut.TryGet(tag, out IActorRef actor))
        {
            // An importer's attachment is known by asking the importer; a dead importer's attachment is dead too.
            if (!sut.ImporterOfAtt(tag, out int imp) || !sut.TryGet(imp, out IActorRef importer) ||
                await sut.Ask(importer, Inspect.Instance).ConfigureAwait(false) is not ImporterInfo { Attachment: { } att })
            {
                return Outcome.Stopped;
            }

            actor = att;
        }

        await sut.StopActor(actor, mode).ConfigureAwait(false);
        return Outcome.Stopped;
    }
}

/// <summary>Holder death: the client actor stops, and every object it held something of must drop it.</summary>
public sealed class KillHolderOp(int holder, StopMode mode) : Op
{
    public override string Call => $"{mode.ToString().ToLowerInvariant()} {H(holder)}";

    protected override IEnumerable<(World, Outcome)> Model(World w) => One(w.KillHolder(holder), Outcome.Stopped);

    protected override async Task<Outcome> Real(Sut.Sut sut)
    {
        await sut.StopActor(Actor(sut, holder), mode).ConfigureAwait(false);
        return Outcome.Stopped;
    }
}
