using System.Buffers.Binary;
using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;

namespace DmaSg.Actors.Serialization;

/// <summary>
/// Reads what <see cref="WireWriter"/> wrote, trusting nothing: every length is checked against the bytes
/// left, every enum against its defined values, every string for valid UTF-8. Any problem is a
/// <see cref="SerializationException"/> that names the manifest and the byte position, never an
/// out-of-range read or a huge allocation.
/// </summary>
internal sealed class WireReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _bytes;
    private readonly ExtendedActorSystem _system;
    private readonly string _manifest;
    private int _pos;

    public WireReader(byte[] bytes, ExtendedActorSystem system, string manifest)
    {
        _bytes = bytes;
        _system = system;
        _manifest = manifest;
    }

    public int Remaining => _bytes.Length - _pos;

    public byte Byte()
    {
        Need(1, "a byte");
        return _bytes[_pos++];
    }

    public bool Bool() => Byte() switch
    {
        0 => false,
        1 => true,
        byte b => throw Bad($"{b} is not a boolean"),
    };

    public ulong UVarint()
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            Need(1, "a varint");
            byte b = _bytes[_pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw Bad("a varint longer than 10 bytes");
    }

    public long Long()
    {
        ulong z = UVarint();
        return (long)(z >> 1) ^ -(long)(z & 1);
    }

    public int Int()
    {
        long v = Long();
        return v is >= int.MinValue and <= int.MaxValue ? (int)v : throw Bad($"{v} does not fit an int");
    }

    public nint Address()
    {
        Need(8, "an address");
        long v = BinaryPrimitives.ReadInt64LittleEndian(_bytes.AsSpan(_pos, 8));
        _pos += 8;
        return (nint)v;
    }

    public TEnum Enum<TEnum>()
        where TEnum : struct, Enum
    {
        long v = Long();
        TEnum value = (TEnum)System.Enum.ToObject(typeof(TEnum), v);
        return System.Enum.IsDefined(value) ? value : throw Bad($"{v} is not a {typeof(TEnum).Name}");
    }

    public string String()
    {
        int n = Length("a string");
        try
        {
            string s = StrictUtf8.GetString(_bytes, _pos, n);
            _pos += n;
            return s;
        }
        catch (DecoderFallbackException)
        {
            throw Bad($"a string of {n} bytes that is not UTF-8");
        }
    }

    public string? NullableString() => Bool() ? String() : null;

    public byte[] Bytes()
    {
        int n = Length("a byte array");
        byte[] data = _bytes.AsSpan(_pos, n).ToArray();
        _pos += n;
        return data;
    }

    public IActorRef? NullableRef() => Byte() switch
    {
        0 => null,
        1 => ActorRefs.Nobody,
        2 => _system.Provider.ResolveActorRef(String()),
        byte b => throw Bad($"actor ref tag {b}"),
    };

    /// <summary>An actor ref that must be there (a null where the message needs a ref is malformed).</summary>
    public IActorRef Ref() => NullableRef() ?? throw Bad("a null actor ref where one is required");

    public T[] List<T>(Func<WireReader, T> read)
    {
        // Every element takes at least one byte, so a count above the bytes left is a lie, not a big list.
        int n = Length("a list");
        var items = new T[n];
        for (int i = 0; i < n; i++)
        {
            items[i] = read(this);
        }

        return items;
    }

    /// <summary>The frame must end where the message does.</summary>
    public void End()
    {
        if (Remaining != 0)
        {
            throw Bad($"{Remaining} bytes left over after the message");
        }
    }

    public SerializationException Bad(string what) =>
        new($"DmaSg wire format: malformed '{_manifest}' frame ({_bytes.Length} bytes): {what} at byte {_pos}");

    private int Length(string what)
    {
        ulong n = UVarint();
        if (n > (ulong)Remaining)
        {
            throw Bad($"{what} of {n} bytes (or items) with only {Remaining} bytes left");
        }

        return (int)n;
    }

    private void Need(int n, string what)
    {
        if (Remaining < n)
        {
            throw Bad($"the frame ends where {what} should be");
        }
    }
}
