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

    /// <summary>Moves bytes in messages of at most dmasg.max-chunk each (the protocol bounds every message).</summary>
    private protected async Task<byte[]> ReadChunked(long offset, int count, Func<long, int, IDmaSgRequest> request)
    {
        if (count < 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"byte count {count} is negative");
        }

        var data = new byte[count];
        int chunk = Client.Settings.MaxChunk;
        int done = 0;
        do
        {
            int n = Math.Min(chunk, count - done);
            BytesRead read = await Ask<BytesRead>(request(offset + done, n)).ConfigureAwait(false);
            read.Data.CopyTo(data, done);
            done += n;
        }
        while (done < count);

        return data;
    }

    private protected async Task WriteChunked(long offset, ReadOnlyMemory<byte> data, Func<long, byte[], IDmaSgRequest> request)
    {
        int chunk = Client.Settings.MaxChunk;
        int done = 0;
        do
        {
            int n = Math.Min(chunk, data.Length - done);
            await Ask<BytesWritten>(request(offset + done, data.Slice(done, n).ToArray())).ConfigureAwait(false);
            done += n;
        }
        while (done < data.Length);
    }
}
