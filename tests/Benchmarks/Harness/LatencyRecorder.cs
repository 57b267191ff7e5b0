using System.Diagnostics;

namespace DmaSg.Benchmarks.Harness;

/// <summary>
/// Per-client latency samples for one round, without sharing between clients (each client writes its
/// own array). Above <see cref="MaxSamplesPerClient"/> operations, every k-th one is kept.
/// </summary>
public sealed class LatencyRecorder
{
    public const int MaxSamplesPerClient = 50_000;

    private readonly long[][] _samples;
    private readonly int[] _counts;
    private readonly int _stride;

    public LatencyRecorder(int clients, int opsPerClient)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(clients, 1);
        _stride = Math.Max(1, (int)Math.Ceiling((double)opsPerClient / MaxSamplesPerClient));
        int perClient = (opsPerClient + _stride - 1) / _stride;
        _samples = Enumerable.Range(0, clients).Select(_ => new long[perClient]).ToArray();
        _counts = new int[clients];
    }

    /// <summary>True when operation <paramref name="op"/> of a client should be timed.</summary>
    public bool Wants(int op) => op % _stride == 0;

    public void Record(int client, long ticks)
    {
        long[] s = _samples[client];
        int n = _counts[client];
        if (n < s.Length)
        {
            s[n] = ticks;
            _counts[client] = n + 1;
        }
    }

    public long[] ToArray() => _samples.SelectMany((s, c) => s.Take(_counts[c])).ToArray();
}

/// <summary>Runs N clients each doing M operations concurrently, timing each (sampled) operation.</summary>
public static class ClientRunner
{
    /// <summary>
    /// One OS thread per client, for blocking designs (the lock-based port): 64 clients are 64 threads
    /// competing for 2 cores, as 64 processes would in the kernel.
    /// </summary>
    public static RoundSample RunThreads(int clients, int opsPerClient, Action<int> op, bool recordLatency = true)
    {
        ArgumentNullException.ThrowIfNull(op);
        var recorder = recordLatency ? new LatencyRecorder(clients, opsPerClient) : null;
        using var gate = new ManualResetEventSlim(false);
        Exception? failure = null;
        var threads = new Thread[clients];
        for (int c = 0; c < clients; c++)
        {
            int client = c;
            threads[c] = new Thread(() =>
            {
                gate.Wait();
                try
                {
                    RunClient(client, opsPerClient, op, recorder);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
            })
            { IsBackground = true, Name = $"bench-client-{c}" };
            threads[c].Start();
        }

        long start = Stopwatch.GetTimestamp();
        gate.Set();
        foreach (var t in threads)
        {
            t.Join();
        }

        long elapsed = Stopwatch.GetTimestamp() - start;
        if (failure is not null)
        {
            throw new InvalidOperationException("a benchmark client failed", failure);
        }

        return new RoundSample((long)clients * opsPerClient, elapsed, recorder?.ToArray());
    }

    /// <summary>One async loop per client, for designs whose operations complete asynchronously (actors).</summary>
    public static async ValueTask<RoundSample> RunTasksAsync(int clients, int opsPerClient, Func<int, ValueTask> op, bool recordLatency = true)
    {
        ArgumentNullException.ThrowIfNull(op);
        var recorder = recordLatency ? new LatencyRecorder(clients, opsPerClient) : null;
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = new Task[clients];
        for (int c = 0; c < clients; c++)
        {
            int client = c;
            tasks[c] = Task.Run(async () =>
            {
                await go.Task.ConfigureAwait(false);
                for (int i = 0; i < opsPerClient; i++)
                {
                    if (recorder is not null && recorder.Wants(i))
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        await op(client).ConfigureAwait(false);
                        recorder.Record(client, Stopwatch.GetTimestamp() - t0);
                    }
                    else
                    {
                        await op(client).ConfigureAwait(false);
                    }
                }
            });
        }

        long start = Stopwatch.GetTimestamp();
        go.SetResult();
        await Task.WhenAll(tasks).ConfigureAwait(false);
        return new RoundSample((long)clients * opsPerClient, Stopwatch.GetTimestamp() - start, recorder?.ToArray());
    }

    private static void RunClient(int client, int ops, Action<int> op, LatencyRecorder? recorder)
    {
        for (int i = 0; i < ops; i++)
        {
            if (recorder is not null && recorder.Wants(i))
            {
                long t0 = Stopwatch.GetTimestamp();
                op(client);
                recorder.Record(client, Stopwatch.GetTimestamp() - t0);
            }
            else
            {
                op(client);
            }
        }
    }
}
