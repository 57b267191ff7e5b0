using Akka.Actor;
using DmaSg.Actors.Allocator;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using FsCheck;
using FsCheck.Fluent;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests.Quotas;

/// <summary>
/// Random allocate/share/put/set-quota/kill sequences for three holders on a fresh allocator, against a model of
/// who pays for which buffer: an allocation succeeds exactly when its payer stays within its limit, a refused one
/// changes nothing, each holder's use is the pages of the live buffers it allocated, a dead holder's accounting
/// is gone, and at the end every page is back and no holder is tracked.
/// </summary>
public sealed class QuotaProperties(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(Hocon, output: output)
{
    private const string Hocon = """
        akka.loglevel = WARNING
        akka.stdout-loglevel = WARNING
        akka.log-dead-letters = off
        akka.log-dead-letters-during-shutdown = off
        """;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly int PageSize = Environment.SystemPageSize;
    private int _case;

    public enum Kind
    {
        Alloc,
        Share,
        Put,
        SetQuota,
        ClearQuota,
        KillHolder,
    }

    /// <param name="N">Pages to allocate, a limit, or which buffer/ref to pick.</param>
    public sealed record Op(Kind Kind, int Holder, int N)
    {
        public override string ToString() => $"{Kind}(h{Holder},{N})";
    }

    public sealed record Scenario(int DefaultPages, Op[] Ops)
    {
        public override string ToString() => $"default {DefaultPages}: {string.Join(" ", Ops.Select(o => o.ToString()))}";
    }

    private static Gen<Op> OpGen =>
        from kind in Gen.Frequency(
            (8, Gen.Constant(Kind.Alloc)), (2, Gen.Constant(Kind.Share)), (5, Gen.Constant(Kind.Put)),
            (2, Gen.Constant(Kind.SetQuota)), (1, Gen.Constant(Kind.ClearQuota)), (1, Gen.Constant(Kind.KillHolder)))
        from holder in Gen.Choose(0, 2)
        from n in Gen.Choose(0, 16)
        select new Op(kind, holder, n);

    private static Arbitrary<Scenario> Scenarios =>
        Arb.From(
            from def in Gen.Elements(0, 0, 4, 8, 12)
            from n in Gen.Choose(1, 35)
            from ops in Gen.ArrayOf(OpGen, n)
            select new Scenario(def, ops),
            Shrink);

    [Fact]
    public void Any_sequence_of_allocations_and_quota_changes_matches_the_model_per_holder() =>
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(60), Prop.ForAll(Scenarios, s =>
            Task.Run(() => Run(s)).GetAwaiter().GetResult()));

    private static IEnumerable<Scenario> Shrink(Scenario s)
    {
        if (s.Ops.Length > 1)
        {
            yield return s with { Ops = s.Ops[..(s.Ops.Length / 2)] };
        }

        for (int i = 0; i < s.Ops.Length; i++)
        {
            yield return s with { Ops = [.. s.Ops[..i], .. s.Ops[(i + 1)..]] };
        }
    }

    private async Task Run(Scenario s)
    {
        int n = Interlocked.Increment(ref _case);
        var settings = new DmaSgSettings { ArenaSize = 2L << 20, MaxOrder = 4, QuotaDefaultPages = s.DefaultPages };
        IActorRef allocator = Sys.ActorOf(AllocatorActor.Props(settings), $"dmasg-{n}");
        try
        {
            await new Case(this, allocator, s).Run();
        }
        finally
        {
            await allocator.GracefulStop(Timeout);
        }
    }

    /// <summary>A live buffer in the model: who pays (null once the payer died) and who holds refs.</summary>
    private sealed class MBuffer(IActorRef actor, IActorRef payer, int pages)
    {
        public IActorRef Actor { get; } = actor;

        public IActorRef? Payer { get; set; } = payer;

        public int Pages { get; } = pages;

        public List<IActorRef> Refs { get; } = [payer];
    }

    private sealed class Case(QuotaProperties kit, IActorRef allocator, Scenario s)
    {
        private readonly IActorRef[] _holders = [kit.CreateTestProbe().Ref, kit.CreateTestProbe().Ref, kit.CreateTestProbe().Ref];
        private readonly List<MBuffer> _buffers = [];
        private readonly Dictionary<IActorRef, long> _overrides = [];
        private long _total;

        public async Task Run()
        {
            _total = (await Stats()).TotalPages;
            foreach (Op op in s.Ops)
            {
                await Step(op);
                await Check();
            }

            foreach (IActorRef holder in _holders)
            {
                await Kill(holder);
            }

            await kit.AwaitAssertAsync(async () =>
            {
                AllocatorStats st = await Stats();
                Assert.Equal(_total, st.FreePages);
                Assert.Equal((0, 0), (st.LiveBuffers, st.Actors.Total));
                Assert.Empty(st.Quotas);
                Assert.All(st.Devices, d => Assert.Equal(0, d.Violations));
            }, Timeout, TimeSpan.FromMilliseconds(5));
        }

        private long Used(IActorRef holder) => _buffers.Where(b => holder.Equals(b.Payer)).Sum(b => (long)b.Pages);

        private long Limit(IActorRef holder) => _overrides.TryGetValue(holder, out long l) ? l : s.DefaultPages;

        private async Task Step(Op op)
        {
            IActorRef holder = _holders[op.Holder];
            switch (op.Kind)
            {
                case Kind.Alloc:
                {
                    int pages = 1 + (op.N % 8);
                    long limit = Limit(holder);
                    bool fits = limit == 0 || Used(holder) + pages <= limit;
                    long free = (await Stats()).FreePages;
                    IDmaSgReply reply = await Request(allocator, new Allocate((long)pages * PageSize, DmaDirection.ToDevice, "default", holder));
                    if (fits)
                    {
                        BufferCreated b = Assert.IsType<BufferCreated>(reply);
                        _buffers.Add(new MBuffer(b.Buffer, holder, pages));
                    }
                    else
                    {
                        Assert.Equal(DmaSgError.QuotaExceeded, Assert.IsType<DmaSgFailure>(reply).Error);
                        Assert.Equal(free, (await Stats()).FreePages);
                    }

                    break;
                }

                case Kind.Share when _buffers.Count > 0:
                {
                    MBuffer b = _buffers[op.N % _buffers.Count];
                    await Ask<RefTaken>(b.Actor, new AddRef(holder));
                    b.Refs.Add(holder);
                    break;
                }

                case Kind.Put when _buffers.Count > 0:
                {
                    MBuffer b = _buffers[(op.N + op.Holder) % _buffers.Count];
                    IActorRef who = b.Refs[op.N % b.Refs.Count];
                    RefDropped dropped = await Ask<RefDropped>(b.Actor, new Put(who));
                    b.Refs.Remove(who);
                    Assert.Equal(b.Refs.Count, dropped.RefCount);
                    if (b.Refs.Count == 0)
                    {
                        _buffers.Remove(b);
                    }

                    break;
                }

                case Kind.SetQuota:
                {
                    HolderQuota q = await Ask<HolderQuota>(allocator, new SetQuota(holder, op.N));
                    _overrides[holder] = op.N;
                    Assert.Equal((Used(holder), (long)op.N, true), (q.UsedPages, q.LimitPages, q.IsOverride));
                    break;
                }

                case Kind.ClearQuota:
                    await Ask<HolderQuota>(allocator, new SetQuota(holder, null));
                    _overrides.Remove(holder);
                    break;

                case Kind.KillHolder:
                    await Kill(holder);
                    _holders[op.Holder] = kit.CreateTestProbe().Ref;
                    await kit.AwaitAssertAsync(async () =>
                    {
                        AllocatorStats st = await Stats();
                        Assert.Equal(_total - _buffers.Sum(b => (long)b.Pages), st.FreePages);
                        Assert.Equal(_buffers.Count, st.LiveBuffers);
                        Assert.DoesNotContain(st.Quotas, q => q.Holder.Equals(holder));
                    }, Timeout, TimeSpan.FromMilliseconds(5));
                    break;
            }
        }

        /// <summary>Kills a holder as a crash would; in the model its refs go, its buffers' charges end, its override goes.</summary>
        private async Task Kill(IActorRef holder)
        {
            var probe = kit.CreateTestProbe();
            probe.Watch(holder);
            holder.Tell(PoisonPill.Instance);
            await probe.ExpectTerminatedAsync(holder, Timeout);
            foreach (MBuffer b in _buffers)
            {
                b.Refs.RemoveAll(holder.Equals);
                if (holder.Equals(b.Payer))
                {
                    b.Payer = null;
                }
            }

            _buffers.RemoveAll(b => b.Refs.Count == 0);
            _overrides.Remove(holder);
        }

        private async Task Check()
        {
            foreach (IActorRef holder in _holders)
            {
                HolderQuota q = await Ask<HolderQuota>(allocator, new GetQuota(holder));
                int buffers = _buffers.Count(b => holder.Equals(b.Payer));
                Assert.Equal((Used(holder), Limit(holder), _overrides.ContainsKey(holder), buffers), (q.UsedPages, q.LimitPages, q.IsOverride, q.Buffers));
            }

            AllocatorStats st = await Stats();
            Assert.Equal(_total - _buffers.Sum(b => (long)b.Pages), st.FreePages);
            var tracked = _holders.Where(h => _overrides.ContainsKey(h) || Used(h) > 0).ToHashSet();
            Assert.Equal(tracked, st.Quotas.Select(q => q.Holder).ToHashSet());
        }

        private Task<AllocatorStats> Stats() => Ask<AllocatorStats>(allocator, GetStats.Instance);

        private Task<IDmaSgReply> Request(IActorRef target, IDmaSgRequest request) => DmaSgAsk.Request(kit.Sys, target, request, Timeout);

        private async Task<T> Ask<T>(IActorRef target, IDmaSgRequest request)
            where T : IDmaSgReply
        {
            IDmaSgReply reply = await Request(target, request);
            return reply is T ok ? ok : throw new Xunit.Sdk.XunitException($"{request} answered {reply}");
        }
    }
}
