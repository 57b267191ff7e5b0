using DmaSg.Actors.Buffers;
using DmaSg.Actors.Protocol;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Serialization;

// Buffer pools and per-holder quotas.
internal static partial class WireCodecs
{
    private static void AddPools()
    {
        Add<CreatePool>("cp", static (w, m) =>
        {
            WritePoolConfig(w, m.Config);
            w.Ref(m.Owner);
        }, static r => new CreatePool(ReadPoolConfig(r), r.Ref()));
        Add<PoolCreated>("pc", static (w, m) =>
        {
            w.Ref(m.Pool);
            w.Long(m.Id);
            w.String(m.Name);
            WritePoolConfig(w, m.Config);
        }, static r => new PoolCreated(r.Ref(), r.Long(), r.String(), ReadPoolConfig(r)));
        Add<AcquireBuffer>("aq", static (w, m) => w.Ref(m.Holder), static r => new AcquireBuffer(r.Ref()));
        Add<BufferAcquired>("ba", static (w, m) =>
        {
            ByType[typeof(BufferCreated)].Write(w, m.Buffer);
            w.Bool(m.Recycled);
        }, static r => new BufferAcquired((BufferCreated)ByType[typeof(BufferCreated)].Read(r), r.Bool()));
        Add<ReleaseBuffer>("rl", static (w, m) =>
        {
            w.Ref(m.Buffer);
            w.Ref(m.Holder);
        }, static r => new ReleaseBuffer(r.Ref(), r.Ref()));
        AddSingleton("dp", DeactivatePool.Instance);
        Add<PoolInfo>("po", static (w, m) => WritePoolInfo(w, m), static r => ReadPoolInfo(r));
        Add<RecycleBuffer>("rc", static (w, m) =>
        {
            w.Ref(m.Holder);
            w.Bool(m.Zero);
        }, static r => new RecycleBuffer(r.Ref(), r.Bool()));
        Add<BufferRecycled>("ry", static (w, m) =>
        {
            w.Bool(m.Reusable);
            w.Int(m.NumUsers);
        }, static r => new BufferRecycled(r.Bool(), r.Int()));
        AddLocalOnly<LosePages>("lp", "a test hook of this process");

        Add<SetQuota>("sq", static (w, m) =>
        {
            w.Ref(m.Holder);
            w.Bool(m.LimitPages is not null);
            if (m.LimitPages is { } limit)
            {
                w.Long(limit);
            }
        }, static r => new SetQuota(r.Ref(), r.Bool() ? r.Long() : null));
        Add<GetQuota>("gq", static (w, m) => w.Ref(m.Holder), static r => new GetQuota(r.Ref()));
        Add<HolderQuota>("hq", static (w, m) => WriteQuota(w, m), static r => ReadQuota(r));
    }

    private static void WritePoolConfig(WireWriter w, PoolConfig c)
    {
        w.Long(c.Size);
        w.Enum(c.Direction);
        w.String(c.Device);
        w.Int(c.MinBuffers);
        w.Int(c.MaxBuffers);
        w.Bool(c.ZeroOnRecycle);
        w.Enum(c.WhenEmpty);
        w.Long(c.AcquireTimeout.Ticks);
        w.Int(c.MaxWaiters);
        w.NullableString(c.Name);
    }

    private static PoolConfig ReadPoolConfig(WireReader r) => new()
    {
        Size = r.Long(),
        Direction = r.Enum<DmaDirection>(),
        Device = r.String(),
        MinBuffers = r.Int(),
        MaxBuffers = r.Int(),
        ZeroOnRecycle = r.Bool(),
        WhenEmpty = r.Enum<PoolEmptyPolicy>(),
        AcquireTimeout = TimeSpan.FromTicks(r.Long()),
        MaxWaiters = r.Int(),
        Name = r.NullableString(),
    };

    private static void WritePoolInfo(WireWriter w, PoolInfo m)
    {
        w.Ref(m.Subject);
        w.Long(m.Id);
        w.String(m.Name);
        WritePoolConfig(w, m.Config);
        w.Bool(m.IsActive);
        w.Int(m.Free);
        w.Int(m.Outstanding);
        w.Int(m.Returning);
        w.Int(m.Allocating);
        w.Int(m.Waiters);
        w.List(m.Leases, static (w, l) =>
        {
            w.Ref(l.Buffer);
            w.Long(l.BufferId);
            w.Ref(l.Holder);
        });
        w.Long(m.Recycles);
        w.Long(m.Allocations);
        w.Long(m.Dropped);
        w.Long(m.Timeouts);
    }

    private static PoolInfo ReadPoolInfo(WireReader r) => new(
        r.Ref(),
        r.Long(),
        r.String(),
        ReadPoolConfig(r),
        r.Bool(),
        r.Int(),
        r.Int(),
        r.Int(),
        r.Int(),
        r.Int(),
        r.List(static r => new PoolLease(r.Ref(), r.Long(), r.Ref())),
        r.Long(),
        r.Long(),
        r.Long(),
        r.Long());

    private static void WriteQuota(WireWriter w, HolderQuota m)
    {
        w.Ref(m.Holder);
        w.Long(m.UsedPages);
        w.Long(m.LimitPages);
        w.Bool(m.IsOverride);
        w.Int(m.Buffers);
    }

    private static HolderQuota ReadQuota(WireReader r) => new(r.Ref(), r.Long(), r.Long(), r.Bool(), r.Int());
}
