using Akka.Actor;
using DmaSg.Actors.Allocator;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Actors.Tests.Support;
using DmaSg.Interop;
using DmaSg.Memory.Dma;
using FsCheck;
using FsCheck.Fluent;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests.Buffers;

/// <summary>
/// Random export/close/prepare/finish/write/put/kill sequences over two buffers and two holders (fds are memfd
/// copies here), against a model: each buffer's refcount is its plain refs plus its open fds, each open fd is
/// exactly one memfd in /proc/self/fd, the bytes follow the bounce-buffer rules (a copy at export, prepare copies
/// the buffer into the fd when the fd's user reads, finish copies back when it writes), a dead holder's fds are
/// closed, and at the end nothing is left: no page, no actor, no fd.
/// </summary>
[Collection(FdTableCollection.Name)]
public sealed class FdExportProperties(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(Hocon, output: output)
{
    private const string Hocon = """
        akka.loglevel = ERROR
        akka.stdout-loglevel = ERROR
        akka.log-dead-letters = off
        akka.log-dead-letters-during-shutdown = off
        """;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly int PageSize = Environment.SystemPageSize;
    private static readonly DmaDirection[] Directions = [DmaDirection.ToDevice, DmaDirection.FromDevice, DmaDirection.Bidirectional];
    private int _case;

    public enum Kind
    {
        Export,
        Close,
        Prepare,
        Finish,
        WriteBuffer,
        WriteFd,
        AddRef,
        Put,
        KillHolder,
    }

    /// <param name="N">Which buffer, fd, ref or direction to pick, and the byte to write.</param>
    public sealed record Op(Kind Kind, int Holder, int N)
    {
        public override string ToString() => $"{Kind}(h{Holder},{N})";
    }

    private static Gen<Op> OpGen =>
        from kind in Gen.Frequency(
            (6, Gen.Constant(Kind.Export)), (4, Gen.Constant(Kind.Close)), (3, Gen.Constant(Kind.Prepare)),
            (3, Gen.Constant(Kind.Finish)), (3, Gen.Constant(Kind.WriteBuffer)), (3, Gen.Constant(Kind.WriteFd)),
            (1, Gen.Constant(Kind.AddRef)), (2, Gen.Constant(Kind.Put)), (1, Gen.Constant(Kind.KillHolder)))
        from holder in Gen.Choose(0, 1)
        from n in Gen.Choose(0, 250)
        select new Op(kind, holder, n);

    private static Arbitrary<Op[]> Scenarios =>
        Arb.From(
            from n in Gen.Choose(1, 30)
            from ops in Gen.ArrayOf(OpGen, n)
            select ops,
            Shrink);

    [Fact]
    public void Any_sequence_of_fd_exports_matches_the_model_and_leaves_nothing() =>
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(25), Prop.ForAll(Scenarios, ops =>
            Task.Run(() => Run(ops)).GetAwaiter().GetResult()));

    private static IEnumerable<Op[]> Shrink(Op[] ops)
    {
        if (ops.Length > 1)
        {
            yield return ops[..(ops.Length / 2)];
        }

        for (int i = 0; i < ops.Length; i++)
        {
            yield return [.. ops[..i], .. ops[(i + 1)..]];
        }
    }

    private async Task Run(Op[] ops)
    {
        int n = Interlocked.Increment(ref _case);
        var settings = new DmaSgSettings { ArenaSize = 1L << 20, MaxOrder = 4, ArenaName = $"fd-prop-{n}", ExportProviders = ["memfd"] };
        IActorRef allocator = Sys.ActorOf(AllocatorActor.Props(settings), $"dmasg-{n}");
        try
        {
            await new Case(this, allocator, n).Run(ops);
        }
        finally
        {
            await allocator.GracefulStop(Timeout);
        }
    }

    private sealed class MExport(FdExported fd, IActorRef holder, byte value)
    {
        public FdExported Fd { get; } = fd;

        public IActorRef Holder { get; } = holder;

        public byte Value { get; set; } = value;
    }

    private sealed class MBuffer(IActorRef actor, string name, IActorRef holder)
    {
        public IActorRef Actor { get; } = actor;

        public string Name { get; } = name;

        public List<IActorRef> Refs { get; } = [holder];

        public List<MExport> Exports { get; } = [];

        public byte Value { get; set; }

        public int Users => Refs.Count + Exports.Count;
    }

    private sealed class Case(FdExportProperties kit, IActorRef allocator, int caseNumber)
    {
        private readonly IActorRef[] _holders = [kit.Sys.ActorOf(Props.Empty), kit.Sys.ActorOf(Props.Empty)];
        private readonly List<MBuffer> _buffers = [];

        public async Task Run(Op[] ops)
        {
            for (int b = 0; b < 2; b++)
            {
                string name = $"prop-{caseNumber}-{b}";
                BufferCreated created = await Ask<BufferCreated>(allocator,
                    new Allocate(2L * PageSize, DmaDirection.Bidirectional, "default", _holders[b], name));
                _buffers.Add(new MBuffer(created.Buffer, name, _holders[b]));
            }

            SortedDictionary<int, string> fds = ProcFds.Ours();
            foreach (Op op in ops)
            {
                bool killed = await Step(op);
                if (killed)
                {
                    await kit.AwaitAssertAsync(Check, Timeout, TimeSpan.FromMilliseconds(5));
                }
                else
                {
                    await Check();
                }
            }

            foreach (IActorRef holder in _holders)
            {
                await Kill(holder);
            }

            await kit.AwaitAssertAsync(async () =>
            {
                AllocatorStats st = await Ask<AllocatorStats>(allocator, GetStats.Instance);
                Assert.Equal(st.TotalPages, st.FreePages);
                Assert.Equal((0, 0), (st.LiveBuffers, st.Actors.Total));
                Assert.Equal(fds, ProcFds.Ours());
            }, Timeout, TimeSpan.FromMilliseconds(5));
        }

        private async Task<bool> Step(Op op)
        {
            IActorRef holder = _holders[op.Holder];
            MBuffer[] live = [.. _buffers.Where(b => b.Users > 0)];
            MExport[] exports = [.. live.SelectMany(b => b.Exports)];
            switch (op.Kind)
            {
                case Kind.Export when live.Length > 0:
                {
                    MBuffer b = live[op.N % live.Length];
                    DmaDirection dir = Directions[op.N % Directions.Length];
                    FdExported e = await Ask<FdExported>(b.Actor, new ExportFd(holder, dir, b.Name));
                    Assert.Equal(dir, e.Direction);
                    Assert.False(e.IsZeroCopy);
                    b.Exports.Add(new MExport(e, holder, b.Value));
                    break;
                }

                case Kind.Close when exports.Length > 0:
                {
                    MExport e = exports[op.N % exports.Length];
                    MBuffer b = Owner(e);
                    await Ask<RefDropped>(b.Actor, new CloseFd(e.Fd.ExportId, e.Holder));
                    b.Exports.Remove(e);
                    break;
                }

                case Kind.Prepare when exports.Length > 0:
                {
                    MExport e = exports[op.N % exports.Length];
                    MBuffer b = Owner(e);
                    await Ask<Done>(b.Actor, new PrepareFd(e.Fd.ExportId));
                    if (e.Fd.Direction.DeviceReads())
                    {
                        e.Value = b.Value;
                    }

                    break;
                }

                case Kind.Finish when exports.Length > 0:
                {
                    MExport e = exports[op.N % exports.Length];
                    MBuffer b = Owner(e);
                    await Ask<Done>(b.Actor, new FinishFd(e.Fd.ExportId));
                    if (e.Fd.Direction.DeviceWrites())
                    {
                        b.Value = e.Value;
                    }

                    break;
                }

                case Kind.WriteBuffer when live.Length > 0:
                {
                    MBuffer b = live[op.N % live.Length];
                    await Ask<BytesWritten>(b.Actor, new WriteBytes(0, [(byte)op.N]));
                    b.Value = (byte)op.N;
                    break;
                }

                case Kind.WriteFd when exports.Length > 0:
                {
                    MExport e = exports[op.N % exports.Length];
                    using (SafeMapping map = e.Fd.Fd.Map())
                    {
                        map.AsSpan()[0] = (byte)op.N;
                    }

                    e.Value = (byte)op.N;
                    break;
                }

                case Kind.AddRef when live.Length > 0:
                {
                    MBuffer b = live[op.N % live.Length];
                    await Ask<RefTaken>(b.Actor, new AddRef(holder));
                    b.Refs.Add(holder);
                    break;
                }

                case Kind.Put when live.Any(b => b.Refs.Count > 0):
                {
                    MBuffer[] withRefs = [.. live.Where(b => b.Refs.Count > 0)];
                    MBuffer b = withRefs[op.N % withRefs.Length];
                    IActorRef who = b.Refs[op.N % b.Refs.Count];
                    RefDropped dropped = await Ask<RefDropped>(b.Actor, new Put(who));
                    b.Refs.Remove(who);
                    Assert.Equal(b.Users, dropped.RefCount);
                    break;
                }

                case Kind.KillHolder:
                {
                    await Kill(holder);
                    foreach (MBuffer b in _buffers)
                    {
                        b.Refs.RemoveAll(h => h.Equals(holder));
                        b.Exports.RemoveAll(e => e.Holder.Equals(holder));
                    }

                    _holders[op.Holder] = kit.Sys.ActorOf(Props.Empty);
                    return true;
                }
            }

            return false;
        }

        private MBuffer Owner(MExport e) => _buffers.First(b => b.Exports.Contains(e));

        private async Task Check()
        {
            foreach (MBuffer b in _buffers)
            {
                Assert.Equal(b.Exports.Count, ProcFds.MemfdsNamed(b.Name));
                if (b.Users == 0)
                {
                    continue;
                }

                Assert.Equal(b.Users, (await Ask<NumUsers>(b.Actor, GetNumUsers.Instance)).Count);
                Assert.Equal(b.Value, (await Ask<BytesRead>(b.Actor, new ReadBytes(0, 1))).Data[0]);
                foreach (MExport e in b.Exports)
                {
                    using SafeMapping map = e.Fd.Fd.Map();
                    Assert.Equal(e.Value, map.AsSpan()[0]);
                }
            }
        }

        private async Task Kill(IActorRef holder)
        {
            Akka.TestKit.TestProbe probe = kit.CreateTestProbe();
            probe.Watch(holder);
            kit.Sys.Stop(holder);
            await probe.ExpectTerminatedAsync(holder, Timeout);
        }

        private Task<T> Ask<T>(IActorRef target, IDmaSgRequest request)
            where T : IDmaSgReply =>
            DmaSgAsk.Request<T>(kit.Sys, target, request, Timeout);
    }
}
