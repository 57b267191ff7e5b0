using System.Text;
using DmaSg.Properties.Tests.Model;
using DmaSg.Properties.Tests.Sut;
using DmaSg.Properties.Tests.Support;
using FsCheck;
using FsCheck.Experimental;
using FsCheck.Fluent;
using Microsoft.FSharp.Collections;
using Outcome = DmaSg.Properties.Tests.Model.Outcome;

namespace DmaSg.Properties.Tests.Sequential;

/// <summary>The machine's model: the settled world after a call, and the reply predicted for that call.</summary>
public sealed record MState(World W, Outcome? Expected)
{
    public override string ToString() => Expected?.Text ?? "start";
}

/// <summary>
/// The model-based property (FsCheck.Experimental state machine): a fresh allocator per case, calls generated from
/// the model, each reply compared with the prediction and the settled state with the model's, and at the end a full
/// release that must bring the arena, the devices, the fds and the mappings back to where they started.
/// </summary>
public sealed class DmaSgMachine(Func<World, Gen<Op>>? next = null, Gen<SetupSpec>? setups = null) : Machine<Sut.Sut, MState>
{
    private readonly Func<World, Gen<Op>> _next = next ?? (w => OpGen.Next(w));

    public static Gen<SetupSpec> DefaultSetups { get; } =
        from pages in Gen.Elements(8, 16, 24, 32, 64, 100)
        from order in Gen.Choose(0, 4)
        from holders in Gen.Choose(1, 3)
        from death in Gen.Elements(true, false)
        select new SetupSpec(pages, order, holders, death);

    public override Arbitrary<Setup<Sut.Sut, MState>> Setup =>
        Arb.From((setups ?? DefaultSetups).Select(spec => (Setup<Sut.Sut, MState>)new CaseSetup(spec)));

    public override TearDown<Sut.Sut> TearDown => new CaseTearDown();

    public override Gen<Operation<Sut.Sut, MState>> Next(MState model) =>
        _next(model.W).Select(op => (Operation<Sut.Sut, MState>)new SeqOperation(op));

    /// <summary>Reads a (shrunk) run back: the setup and the calls with the replies the model predicts.</summary>
    public static (SetupSpec Spec, IReadOnlyList<(Op Op, MState Model)> Ops)? Unpack(object arg)
    {
        if (arg is not MachineRun<Sut.Sut, MState> run)
        {
            return null;
        }

        var spec = ((CaseSetup)run.Setup.Item2).Spec;
        var ops = ListModule.ToArray(run.Operations).Select(t => (((SeqOperation)t.Item1).Op, t.Item2)).ToArray();
        return (spec, ops);
    }

    /// <summary>The counterexample as user-level calls, each with the reply the model predicts.</summary>
    public static string Render(object arg)
    {
        if (Unpack(arg) is not var (spec, ops))
        {
            return arg.ToString() ?? string.Empty;
        }

        var sb = new StringBuilder().AppendLine($"setup: {spec}");
        int n = 1;
        foreach ((Op op, MState m) in ops)
        {
            sb.AppendLine($"  {n++,3}. {op.Call,-70} // model: {m.Expected}");
        }

        return sb.ToString();
    }

    /// <summary>Runs a counterexample once more on a fresh system and returns what every call answered.</summary>
    public static async Task<string> Replay(object arg)
    {
        if (Unpack(arg) is not var (spec, ops))
        {
            return string.Empty;
        }

        await using Sut.Sut sut = await Sut.Sut.Start(spec);
        World w = sut.Model!;
        string? failure = null;
        foreach ((Op op, MState m) in ops)
        {
            failure = await Driver.Step(sut, op, m.Expected!, m.W);
            w = m.W;
            if (failure is not null)
            {
                break;
            }
        }

        failure ??= await Driver.ReleaseAll(sut, w);
        var sb = new StringBuilder().AppendLine($"replayed on a fresh system ({spec}):");
        foreach (string line in sut.Log)
        {
            sb.AppendLine($"  {line}");
        }

        sb.AppendLine(failure is null ? "  (the replay passed: the failure depends on timing)" : $"  FAILED: {failure}");
        return sb.ToString();
    }

    private sealed class CaseSetup(SetupSpec spec) : Setup<Sut.Sut, MState>
    {
        public SetupSpec Spec => spec;

        public override Sut.Sut Actual() => Sut.Sut.Start(spec).GetAwaiter().GetResult();

        public override MState Model() => new(World.Initial(spec.Pages, spec.Holders), null);

        public override string ToString() => spec.ToString();
    }

    private sealed class CaseTearDown : TearDown<Sut.Sut>
    {
        public override void Actual(Sut.Sut sut)
        {
            string? failure = null;
            try
            {
                if (sut.Failure is null)
                {
                    failure = Driver.ReleaseAll(sut, sut.Model!).GetAwaiter().GetResult();
                }
            }
            finally
            {
                sut.DisposeAsync().AsTask().GetAwaiter().GetResult();
                CaseStats.Record(sut);
            }

            if (failure is not null)
            {
                throw new InvalidOperationException($"end of case: {failure}");
            }
        }

        public override string ToString() => "release everything, then check for leaks";
    }

    private sealed class SeqOperation(Op op) : Operation<Sut.Sut, MState>
    {
        public Op Op => op;

        public override bool Pre(MState model) => op.Pre(model.W);

        public override MState Run(MState model)
        {
            (World next, Outcome expected) = op.Step(model.W)[0];
            return new MState(next.Drain(), expected);
        }

        public override Property Check(Sut.Sut sut, MState model)
        {
            if (sut.Failure is not null)
            {
                // The real state left the model at an earlier call: what follows would only repeat that.
                return Prop.ToProperty(true);
            }

            sut.Ops++;
            string? failure = Driver.Step(sut, op, model.Expected!, model.W).GetAwaiter().GetResult();
            if (failure is null)
            {
                return Prop.ToProperty(true);
            }

            sut.Failure = failure;
            return Prop.Label(false, failure);
        }

        public override string ToString() => op.Call;
    }
}
