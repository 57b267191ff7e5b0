using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Memory;

namespace DmaSg.Actors.Facade;

/// <summary>
/// What every handle shares: it stands for exactly one ref (or attachment, importer, mapping) of its
/// client's holder; <see cref="DisposeAsync"/> gives it back once, and a second dispose does nothing.
/// A disposed handle refuses further use with UseAfterRelease.
/// </summary>
public abstract class Handle : IAsyncDisposable
{
    private int _disposed;

    private protected Handle(DmaSgClient client, IActorRef target)
    {
        Client = client;
        Target = target;
    }

    /// <summary>The actor this handle talks to.</summary>
    public IActorRef Target { get; }

    public bool IsDisposed => Volatile.Read(ref _disposed) == 1;

    private protected DmaSgClient Client { get; }

    /// <summary>Drops this handle's ref exactly once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        try
        {
            await Client.Release(ReleaseTarget, ReleaseRequest()).ConfigureAwait(false);
        }
        finally
        {
            AfterRelease();
        }

        GC.SuppressFinalize(this);
    }

    public override string ToString() => $"{GetType().Name}({Target.Path.Name}{(IsDisposed ? ", disposed" : string.Empty)})";

    /// <summary>Local cleanup once the release was sent, whether or not it succeeded (an fd handle closes its fd).</summary>
    private protected virtual void AfterRelease()
    {
    }

    /// <summary>Where <see cref="ReleaseRequest"/> goes: the target itself, or (a pooled buffer) its pool.</summary>
    private protected virtual IActorRef ReleaseTarget => Target;

    /// <summary>The request that gives this handle's ref back.</summary>
    private protected abstract IDmaSgRequest ReleaseRequest();

    private protected Task<T> Ask<T>(IDmaSgRequest request)
        where T : IDmaSgReply
    {
        ThrowIfDisposed();
        return Client.Ask<T>(Target, request);
    }

    /// <summary>Marks the handle released without sending anything (its ref went another way).</summary>
    private protected bool MarkDisposed() => Interlocked.Exchange(ref _disposed, 1) == 0;

    private protected void ThrowIfDisposed()
    {
        if (IsDisposed)
        {
            throw new DmaSgException(DmaSgError.UseAfterRelease, $"{this} was disposed");
        }
    }

    /// <summary>
    /// Moves bytes in bounded chunks (dmasg.max-chunk, or what fits a remote frame when the target is on another
    /// node), at most dmasg.transfer.max-in-flight at a time; the whole range is bounds-checked first.
    /// </summary>
    private protected Task<byte[]> ReadChunked(long offset, int count, Func<long, int, IDmaSgRequest> request)
    {
        ThrowIfDisposed();
        return Cluster.ChunkedTransfer.ReadAsync(Client, Target, Extent, offset, count, request);
    }

    private protected Task WriteChunked(long offset, ReadOnlyMemory<byte> data, Func<long, byte[], IDmaSgRequest> request)
    {
        ThrowIfDisposed();
        return Cluster.ChunkedTransfer.WriteAsync(Client, Target, Extent, offset, data, request);
    }

    /// <summary>The byte size a transfer through this handle must stay within (null: the actor checks).</summary>
    private long? Extent => this switch
    {
        BufferHandle b => b.Size,
        ImportHandle i => i.Size,
        _ => null,
    };
}
