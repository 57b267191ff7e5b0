using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Facade;

/// <summary>
/// Async access to DmaSg for code that is not an actor. Every ref taken through a client (the handles it
/// returns) is owned by its <see cref="Holder"/> actor: disposing a handle drops exactly that ref, and if the
/// holder stops, DeathWatch drops them all. Failures arrive as <see cref="DmaSgException"/> with the typed
/// <see cref="DmaSgError"/>; a request to a released object fails with UseAfterRelease, never a timeout.
/// </summary>
public sealed partial class DmaSgClient : IAsyncDisposable
{
    private readonly bool _ownsHolder;
    private int _disposed;

    internal DmaSgClient(ActorSystem system, IActorRef allocator, DmaSgSettings settings, IActorRef holder, bool ownsHolder)
    {
        System = system;
        Allocator = allocator;
        Settings = settings;
        Holder = holder;
        _ownsHolder = ownsHolder;
    }

    /// <summary>The actor that owns this client's refs (what DeathWatch sees).</summary>
    public IActorRef Holder { get; }

    public IActorRef Allocator { get; }

    internal ActorSystem System { get; }

    internal DmaSgSettings Settings { get; }

    /// <summary>vb2_dma_sg_alloc: a buffer of whole pages for <paramref name="device"/>, mapped <paramref name="direction"/>.</summary>
    public async Task<BufferHandle> AllocateAsync(long size, DmaDirection direction = DmaDirection.Bidirectional, string device = "default", string? name = null)
    {
        BufferCreated created = await Ask<BufferCreated>(Allocator, new Allocate(size, direction, device, Holder, name)).ConfigureAwait(false);
        return new BufferHandle(this, created);
    }

    /// <summary>vb2_dma_sg_get_userptr over managed memory, pinned until the handle is disposed.</summary>
    public Task<BufferHandle> UserptrAsync(Memory<byte> memory, DmaDirection direction, string device = "default") =>
        Userptr(new UserMemory.Managed(memory), direction, device);

    /// <summary>USERPTR over read-only memory (ToDevice only).</summary>
    public Task<BufferHandle> UserptrAsync(ReadOnlyMemory<byte> memory, DmaDirection direction, string device = "default") =>
        Userptr(new UserMemory.ReadOnly(memory), direction, device);

    /// <summary>USERPTR over native memory the caller keeps mapped until the handle is disposed.</summary>
    public Task<BufferHandle> UserptrAsync(nint address, long length, DmaDirection direction, string device = "default") =>
        Userptr(new UserMemory.Native(address, length), direction, device);

    /// <summary>
    /// vb2_dma_sg_attach_dmabuf: an importer of <paramref name="dmabuf"/> for <paramref name="device"/>
    /// (Fault when the dmabuf is smaller than <paramref name="size"/>); pin it to map.
    /// </summary>
    public async Task<ImportHandle> ImportAsync(DmaBufHandle dmabuf, long size, DmaDirection direction, string device = "default")
    {
        ArgumentNullException.ThrowIfNull(dmabuf);
        Imported imported = await Ask<Imported>(Allocator, new AttachDmaBuf(dmabuf.DmaBuf, size, direction, device, Holder)).ConfigureAwait(false);
        return new ImportHandle(this, imported, direction, device);
    }

    public Task<AllocatorStats> GetStatsAsync() => Ask<AllocatorStats>(Allocator, GetStats.Instance);

    /// <summary>Every buffer, dmabuf, attachment and importer with refcounts, holders and mapping directions.</summary>
    public Task<DmaSgInspection> InspectAsync() => Ask<DmaSgInspection>(Allocator, Inspect.Instance);

    public async Task<string> RegisterDeviceAsync(IDmaDevice device) =>
        (await Ask<DeviceRegistered>(Allocator, new RegisterDevice(device)).ConfigureAwait(false)).Name;

    public async Task<DeviceRemovalReport> RemoveDeviceAsync(string name) =>
        (await Ask<DeviceRemoved>(Allocator, new RemoveDevice(name)).ConfigureAwait(false)).Report;

    /// <summary>Stops a holder this client created: every ref it still holds is dropped by DeathWatch. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_ownsHolder || Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        try
        {
            await Holder.GracefulStop(Settings.AskTimeout).ConfigureAwait(false);
        }
        catch (TaskCanceledException)
        {
            // Timed out: it is stopping anyway, and DeathWatch will see it go.
        }
    }

    internal Task<T> Ask<T>(IActorRef target, IDmaSgRequest request)
        where T : IDmaSgReply =>
        DmaSgAsk.Request<T>(System, target, request, Settings.AskTimeout);

    /// <summary>Sends a ref-dropping request once; "already released" is not an error when letting go.</summary>
    internal async ValueTask Release(IActorRef target, IDmaSgRequest request)
    {
        if (Volatile.Read(ref _disposed) == 1)
        {
            // The holder is gone, and DeathWatch dropped its refs with it.
            return;
        }

        IDmaSgReply reply = await DmaSgAsk.Request(System, target, request, Settings.AskTimeout).ConfigureAwait(false);
        if (reply is DmaSgFailure f && f.Error != DmaSgError.UseAfterRelease)
        {
            throw f.ToException();
        }
    }

    private async Task<BufferHandle> Userptr(UserMemory memory, DmaDirection direction, string device)
    {
        BufferCreated created = await Ask<BufferCreated>(Allocator, new GetUserptr(memory, direction, device, Holder)).ConfigureAwait(false);
        return new BufferHandle(this, created);
    }
}
