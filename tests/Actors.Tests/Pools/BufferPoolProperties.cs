using Akka.Actor;
using DmaSg.Actors.Allocator;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Memory;
using FsCheck;
using FsCheck.Fluent;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests.Pools;

/// <summary>
/// Random acquire/release/kill/deactivate sequences on a fresh allocator and pool, against a model of the leases:
/// the right answer every time, never one buffer lent twice, outstanding &lt;= max, the pool's size exactly
/// max(min, peak demand), recycled bytes kept (or cleared), and after deactivation and the last release every
/// arena page back, no buffer, pool or mapping left.
/// </summary>
public sealed class BufferPoolProperties(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(Hocon, output: output)
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
        Acquire,
        Release,
        ReleaseByAnother,
        KillHolder,
        Deactivate,
    }

    public sealed record Op(Kind Kind, int Holder, int Pick)
    {
        public override string ToString() => $"{Kind}(h{Holder},{Pick})";
    }

    public sealed record Scenario(int Pages, int Min, int Max, bool Zero, Op[] Ops)
    {
        public override string ToString() =>
            $"{Pages} pages/buffer, min {Min}, max {Max}, zero {Zero}: {string.Join(" ", Ops.Select(o => o.ToString()))}";
    }

    private static Gen<Op> OpGen =>
        from kind in Gen.Frequency(
            (7, Gen.Constant(Kind.Acquire)), (5, Gen.Constant(Kind.Release)), (1, Gen.Constant(Kind.ReleaseByAnother)),
            (1, Gen.Constant(Kind.KillHolder)), (1, Gen.Constant(Kind.Deactivate)))
        from holder in Gen.Choose(0, 2)
        from pick in Gen.Choose(0, 100)
        select new Op(kind, holder, pick);

    private static Arbitrary<Scenario> Scenarios =>
        Arb.From(
            from pages in Gen.Choose(1, 4)
            from min in Gen.Choose(0, 3)
            from extra in Gen.Choose(-1, 4)
            from zero in Gen.Elements(true, false)
            from n in Gen.Choose(1, 30)
            from ops in Gen.ArrayOf(OpGen, n)
            select new Scenario(pages, min, extra < 0 ? 0 : Math.Max(1, min + extra), zero, ops),
            Shrink);

    [Fact]
    public void Any_acquire_release_deactivate_sequence_matches_the_model_and_leaks_nothing() =>
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
        IActorRef allocator = Sys.ActorOf(AllocatorActor.Props(new DmaSgSettings { ArenaSize = 1L << 20, MaxOrder = 4 }), $"dmasg-{n}");
        try
        {
            await new Case(this, allocator, s).Run();
        }
        finally
        {
            await allocator.GracefulStop(Timeout);
        }
    }

    private sealed class Case(BufferPoolProperties kit, IActorRef allocator, Scenario s)
    {
        private readonly IActorRef[] _holders = [kit.CreateTestProbe().Ref, kit.CreateTestProbe().Ref, kit.CreateTestProbe().Ref];
        private readonly List<(IActorRef Buffer, int Holder)> _leases = [];
        private readonly Dictionary<IActorRef, long> _marker = [];
        private IActorRef _pool = ActorRefs.Nobody;
        private bool _active = true;
        private int _peak;
        private long _nextMarker;

        private long BufferSize => (long)s.Pages * PageSize;

        public async Task Run()
        {
            long total = (await Stats()).TotalPages;
            var config = new PoolConfig
            {
                Size = BufferSize,
                MinBuffers = s.Min,
                MaxBuffers = s.Max,
                ZeroOnRecycle = s.Zero,
                WhenEmpty = PoolEmptyPolicy.Fail,
            };
            _pool = (await Ask<PoolCreated>(allocator, new CreatePool(config, kit.CreateTestProbe().Ref))).Pool;
            await CheckInvariants();

            foreach (Op op in s.Ops)
            {
                await Step(op);
                await CheckInvariants();
            }

            if (_active)
            {
                await Ask<Done>(_pool, DeactivatePool.Instance);
            }

            foreach ((IActorRef buffer, int holder) in _leases.ToArray())
            {
                await Ask<Done>(_pool, new ReleaseBuffer(buffer, _holders[holder]));
            }

            await kit.AwaitAssertAsync(async () =>
            {
                AllocatorStats st = await Stats();
                Assert.Equal(total, st.FreePages);
                Assert.Equal((0, 0, 0, 0), (st.LiveBuffers, st.LivePools, st.Actors.Total, st.DeviceMappings));
                Assert.All(st.Devices, d => Assert.Equal(0, d.Violations));
                Assert.Empty(st.Quotas);
            }, Timeout, TimeSpan.FromMilliseconds(5));
        }

        private async Task Step(Op op)
        {
            switch (op.Kind)
            {
                case Kind.Acquire:
                    await Acquire(op.Holder);
                    break;
                case Kind.Release when _leases.Count > 0:
                {
                    (IActorRef buffer, int holder) = _leases[op.Pick % _leases.Count];
                    await Ask<Done>(_pool, new ReleaseBuffer(buffer, _holders[holder]));
                    _leases.Remove((buffer, holder));
                    break;
                }

                case Kind.ReleaseByAnother when _leases.Count > 0:
                {
                    (IActorRef buffer, int holder) = _leases[op.Pick % _leases.Count];
                    IDmaSgReply reply = await Request(_pool, new ReleaseBuffer(buffer, _holders[(holder + 1) % 3]));
                    Assert.Equal(DmaSgError.InvalidArgument, Assert.IsType<DmaSgFailure>(reply).Error);
                    break;
                }

                case Kind.KillHolder:
                {
                    var probe = kit.CreateTestProbe();
                    probe.Watch(_holders[op.Holder]);
                    _holders[op.Holder].Tell(PoisonPill.Instance);
                    await probe.ExpectTerminatedAsync(_holders[op.Holder], Timeout);
                    _holders[op.Holder] = kit.CreateTestProbe().Ref;
                    _leases.RemoveAll(l => l.Holder == op.Holder);
                    if (PoolAlive)
                    {
                        await kit.AwaitAssertAsync(async () => Assert.Equal(_leases.Count, (await Info()).Outstanding), Timeout, TimeSpan.FromMilliseconds(5));
                    }

                    break;
                }

                case Kind.Deactivate:
                {
                    IDmaSgReply reply = await Request(_pool, DeactivatePool.Instance);

                    // Once deactivated with nothing lent, the pool may already be gone: a released object.
                    Assert.True(reply is Done || (!_active && reply is DmaSgFailure { Error: DmaSgError.UseAfterRelease }), reply.ToString());
                    _active = false;
                    break;
                }
            }
        }

        private bool PoolAlive => _active || _leases.Count > 0;

        private async Task Acquire(int h)
        {
            IDmaSgReply reply = await Request(_pool, new AcquireBuffer(_holders[h]));
            if (!_active)
            {
                Assert.Equal(DmaSgError.UseAfterRelease, Assert.IsType<DmaSgFailure>(reply).Error);
                return;
            }

            if (s.Max > 0 && _leases.Count >= s.Max)
            {
                Assert.Equal(DmaSgError.WouldBlock, Assert.IsType<DmaSgFailure>(reply).Error);
                return;
            }

            BufferAcquired a = Assert.IsType<BufferAcquired>(reply);
            IActorRef buffer = a.Buffer.Buffer;
            Assert.DoesNotContain(_leases, l => l.Buffer.Equals(buffer));
            Assert.Equal(BufferSize, a.Buffer.Size);

            // Every borrower stamps its buffer: the next one sees the stamp, unless the pool zeroes on recycle.
            bool lentBefore = _marker.TryGetValue(buffer, out long last);
            Assert.Equal(lentBefore, a.Recycled);
            byte[] head = (await Ask<BytesRead>(buffer, new ReadBytes(BufferSize - 8, 8))).Data;
            Assert.Equal(s.Zero || !lentBefore ? 0 : last, BitConverter.ToInt64(head));
            long stamp = ++_nextMarker;
            await Ask<BytesWritten>(buffer, new WriteBytes(BufferSize - 8, BitConverter.GetBytes(stamp)));
            _marker[buffer] = stamp;

            _leases.Add((buffer, h));
            _peak = Math.Max(_peak, _leases.Count);
        }

        private async Task CheckInvariants()
        {
            if (_active)
            {
                PoolInfo info = await Info();
                int expectedTotal = Math.Max(s.Min, _peak);
                Assert.Equal(_leases.Count, info.Outstanding);
                Assert.Equal(expectedTotal, info.Total);
                Assert.Equal(0, info.Allocating);
                if (s.Max > 0)
                {
                    Assert.True(info.Total <= s.Max, $"{info.Total} buffers in a pool of max {s.Max}");
                }

                Assert.Equal(expectedTotal * (long)s.Pages, (await Stats()).AllocatedPages);
                return;
            }

            // Deactivated: free buffers go at once, lent ones when they come back, the pool when all are back.
            await kit.AwaitAssertAsync(async () =>
            {
                AllocatorStats st = await Stats();
                Assert.Equal(_leases.Count * (long)s.Pages, st.AllocatedPages);
                Assert.Equal(_leases.Count, st.LiveBuffers);
                Assert.Equal(_leases.Count > 0 ? 1 : 0, st.LivePools);
            }, Timeout, TimeSpan.FromMilliseconds(5));
        }

        private Task<PoolInfo> Info() => Ask<PoolInfo>(_pool, Inspect.Instance);

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
