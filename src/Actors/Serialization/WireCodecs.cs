using System.Runtime.Serialization;

namespace DmaSg.Actors.Serialization;

/// <summary>
/// The table of message codecs: each message type has a short manifest (sent once per message by the
/// transport) and a writer/reader pair for its fields, in constructor order. A type not in the table
/// cannot cross the wire: serializing it fails with a message that says so, rather than falling back to JSON.
/// </summary>
internal static partial class WireCodecs
{
    private static readonly Dictionary<Type, Codec> ByType = [];
    private static readonly Dictionary<string, Codec> ByManifest = new(StringComparer.Ordinal);

    static WireCodecs()
    {
        AddRequests();
        AddReplies();
        AddInspection();
        AddCluster();
        AddPools();
        AddFds();
    }

    /// <summary>Every type with a wire format, by manifest.</summary>
    public static IReadOnlyDictionary<string, Type> Manifests => ByManifest.ToDictionary(kv => kv.Key, kv => kv.Value.Type);

    public static bool TryGet(Type type, out Codec codec) => ByType.TryGetValue(type, out codec!);

    public static bool TryGet(string manifest, out Codec codec) => ByManifest.TryGetValue(manifest, out codec!);

    private static void Add<T>(string manifest, Action<WireWriter, T> write, Func<WireReader, T> read)
        where T : class
    {
        var codec = new Codec(typeof(T), manifest, (w, o) => write(w, (T)o), r => read(r));
        if (!ByManifest.TryAdd(manifest, codec) || !ByType.TryAdd(typeof(T), codec))
        {
            throw new InvalidOperationException($"wire manifest '{manifest}' or type {typeof(T).Name} registered twice");
        }
    }

    /// <summary>A message without fields: nothing but the version byte on the wire.</summary>
    private static void AddSingleton<T>(string manifest, T instance)
        where T : class => Add<T>(manifest, static (_, _) => { }, _ => instance);

    /// <summary>A type that must never leave its process (it carries memory or objects of this process).</summary>
    private static void AddLocalOnly<T>(string manifest, string why)
        where T : class =>
        Add<T>(
            manifest,
            (_, _) => throw new SerializationException($"DmaSg wire format: {typeof(T).Name} cannot cross nodes: {why}"),
            r => throw r.Bad($"{typeof(T).Name} cannot cross nodes: {why}"));

    internal sealed record Codec(Type Type, string Manifest, Action<WireWriter, object> Write, Func<WireReader, object> Read);
}
