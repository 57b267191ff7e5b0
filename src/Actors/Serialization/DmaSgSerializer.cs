using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using DmaSg.Actors.Protocol;

namespace DmaSg.Actors.Serialization;

/// <summary>
/// The wire format of every DmaSg protocol message (<see cref="IDmaSgMessage"/>): compact binary, never
/// Akka's default JSON. A frame is one version byte, then the message's fields in constructor order
/// (varints, length-prefixed strings and bytes, actor refs as paths); the manifest, a 1-2 letter code,
/// names the message. Bound in reference.conf (<c>akka.actor.serialization-bindings</c>).
/// <para>
/// Malformed bytes (truncated, a length or count past the end, an unknown version, manifest or enum value,
/// invalid UTF-8, bytes left over) throw a <see cref="SerializationException"/> naming the manifest and
/// the byte position. The remote transport drops such a frame and logs that error; no actor sees it.
/// </para>
/// </summary>
public sealed class DmaSgSerializer : SerializerWithStringManifest
{
    /// <summary>The serializer id on the wire (Akka reserves 0-40).</summary>
    public const int SerializerId = 1847;

    /// <summary>The layout version this node writes; a frame of another version is refused, not guessed at.</summary>
    public const byte WireVersion = 1;

    public DmaSgSerializer(ExtendedActorSystem system)
        : base(system)
    {
    }

    public override int Identifier => SerializerId;

    /// <summary>Every message type that has a wire format, by manifest.</summary>
    public static IReadOnlyDictionary<string, Type> Manifests => WireCodecs.Manifests;

    public override string Manifest(object o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return Codec(o.GetType()).Manifest;
    }

    public override byte[] ToBinary(object obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        WireCodecs.Codec codec = Codec(obj.GetType());
        var w = new WireWriter();
        w.Byte(WireVersion);
        codec.Write(w, obj);
        return w.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var r = new WireReader(bytes, system, manifest ?? string.Empty);
        if (manifest is null || !WireCodecs.TryGet(manifest, out WireCodecs.Codec codec))
        {
            throw r.Bad($"unknown manifest (this node knows {WireCodecs.Manifests.Count} DmaSg messages)");
        }

        byte version = r.Byte();
        if (version != WireVersion)
        {
            throw r.Bad($"wire version {version}; this node reads version {WireVersion}");
        }

        object message;
        try
        {
            message = codec.Read(r);
        }
        catch (Exception e) when (e is not SerializationException)
        {
            // A value no message can hold (a path that does not parse, a record that rejects it): still malformed input.
            throw r.Bad($"{e.GetType().Name}: {e.Message}");
        }

        r.End();
        return message;
    }

    private static WireCodecs.Codec Codec(Type type) =>
        WireCodecs.TryGet(type, out WireCodecs.Codec codec)
            ? codec
            : throw new SerializationException(
                $"DmaSg wire format: {type.FullName} has no wire format; add it to DmaSg.Actors.Serialization.WireCodecs");
}
