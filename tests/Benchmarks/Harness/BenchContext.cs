using DmaSg.Benchmarks.Designs;

namespace DmaSg.Benchmarks.Harness;

/// <summary>
/// What every workload gets: options, round plan, the designs, a progress log, and a place for things
/// several cases share (an ActorSystem, say), disposed when the run ends.
/// </summary>
public sealed class BenchContext(BenchOptions options, DesignCatalog catalog, TextWriter log) : IAsyncDisposable
{
    private readonly Dictionary<string, object> _shared = [];
    private readonly List<object> _disposeOrder = [];

    public BenchOptions Options { get; } = options;

    public DesignCatalog Catalog { get; } = catalog;

    public TextWriter Log { get; } = log;

    public RoundPlan Plan => Options.Plan;

    /// <summary>The object stored under <paramref name="key"/>, created on first use and disposed with the context.</summary>
    public async ValueTask<T> SharedAsync<T>(string key, Func<ValueTask<T>> create)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(create);
        if (_shared.TryGetValue(key, out object? existing))
        {
            return (T)existing;
        }

        T created = await create().ConfigureAwait(false);
        _shared[key] = created;
        _disposeOrder.Add(created);
        return created;
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = _disposeOrder.Count - 1; i >= 0; i--)
        {
            switch (_disposeOrder[i])
            {
                case IAsyncDisposable a:
                    await a.DisposeAsync().ConfigureAwait(false);
                    break;
                case IDisposable d:
                    d.Dispose();
                    break;
            }
        }

        _disposeOrder.Clear();
        _shared.Clear();
    }
}
