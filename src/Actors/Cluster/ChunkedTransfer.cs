using Akka.Actor;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Memory;

namespace DmaSg.Actors.Cluster;

/// <summary>
/// The data plane of the facade: a read or write of any size, bounds-checked up front (so a bad range sends
/// nothing and changes nothing), split into chunks that fit the peer (<see cref="TransferLimits"/>), with at
/// most <c>dmasg.transfer.max-in-flight</c> chunks awaiting replies. The next chunk leaves only when one
/// came back: back-pressure instead of an unbounded mailbox on the target.
/// </summary>
internal static class ChunkedTransfer
{
    public static async Task<byte[]> ReadAsync(DmaSgClient client, IActorRef target, long? size, long offset, int count,
        Func<long, int, IDmaSgRequest> request)
    {
        if (count < 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"byte count {count} is negative");
        }

        if (size is { } s)
        {
            DmaAccess.CheckRange(s, offset, count);
        }

        var data = new byte[count];
        await Run(client, target, count, (at, n) => ReadOne(at, n)).ConfigureAwait(false);
        return data;

        async Task ReadOne(int at, int n)
        {
            BytesRead read = await client.Ask<BytesRead>(target, request(offset + at, n)).ConfigureAwait(false);
            if (read.Data is null || read.Data.Length != n)
            {
                throw new DmaSgException(DmaSgError.Io, $"{target.Path.Name} answered a read of {n} bytes with {read.Data?.Length ?? 0}");
            }

            read.Data.CopyTo(data, at);
        }
    }

    public static Task WriteAsync(DmaSgClient client, IActorRef target, long? size, long offset, ReadOnlyMemory<byte> data,
        Func<long, byte[], IDmaSgRequest> request)
    {
        if (size is { } s)
        {
            DmaAccess.CheckRange(s, offset, data.Length);
        }

        return Run(client, target, data.Length, (at, n) => client.Ask<BytesWritten>(target, request(offset + at, data.Slice(at, n).ToArray())));
    }

    /// <summary>Sends chunks [at, at+n) of <paramref name="count"/> bytes, at most the window at a time; a zero count still sends one.</summary>
    private static async Task Run(DmaSgClient client, IActorRef target, int count, Func<int, int, Task> send)
    {
        TransferLimits limits = TransferLimits.Of(client.System);
        int chunk = limits.ChunkFor(target, client.Settings.MaxChunk);
        var inFlight = new List<Task>(limits.MaxInFlight);
        try
        {
            int done = 0;
            do
            {
                if (inFlight.Count == limits.MaxInFlight)
                {
                    // Any reply frees a slot (chunks from different asks may be answered in any order).
                    Task finished = await Task.WhenAny(inFlight).ConfigureAwait(false);
                    inFlight.Remove(finished);
                    await finished.ConfigureAwait(false);
                }

                int n = Math.Min(chunk, count - done);
                inFlight.Add(send(done, n));
                done += n;
            }
            while (done < count);

            await Task.WhenAll(inFlight).ConfigureAwait(false);
            inFlight.Clear();
        }
        catch
        {
            // Let the chunks already sent finish before reporting, so no reply arrives after the caller moved on.
            await Task.WhenAll(inFlight.Select(t => t.ContinueWith(static _ => { }, TaskScheduler.Default))).ConfigureAwait(false);
            throw;
        }
    }
}
