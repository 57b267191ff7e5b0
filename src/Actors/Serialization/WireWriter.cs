using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Akka.Actor;

namespace DmaSg.Actors.Serialization;

/// <summary>
/// Writes the DmaSg wire format: LEB128 varints (zigzag for signed values), length-prefixed UTF-8 strings and
/// byte arrays, actor refs as their serialized path. No field names, no type tags inside a message: the
/// manifest says which message it is and the version byte says how it is laid out.
/// </summary>
internal sealed class WireWriter
{
    private readonly ArrayBufferWriter<byte> _buffer;

    public WireWriter(int capacity = 64)
    {
        _buffer = new ArrayBufferWriter<byte>(capacity);
    }

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    public void Byte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }

    public void Bool(bool value) => Byte(value ? (byte)1 : (byte)0);

    /// <summary>An unsigned varint (7 bits a byte, high bit = more).</summary>
    public void UVarint(ulong value)
    {
        Span<byte> span = _buffer.GetSpan(10);
        int n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[n++] = (byte)value;
        _buffer.Advance(n);
    }

    /// <summary>A signed value, zigzag-encoded so small negatives stay short.</summary>
    public void Long(long value) => UVarint((ulong)((value << 1) ^ (value >> 63)));

    public void Int(int value) => Long(value);

    /// <summary>A native address, as 8 fixed bytes (addresses are large; a varint would not save anything).</summary>
    public void Address(nint value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    public void Enum<TEnum>(TEnum value)
        where TEnum : struct, Enum => Long(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));

    public void String(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int n = Encoding.UTF8.GetByteCount(value);
        UVarint((ulong)n);
        Encoding.UTF8.GetBytes(value, _buffer.GetSpan(n));
        _buffer.Advance(n);
    }

    /// <summary>A string that may be null (a presence byte first).</summary>
    public void NullableString(string? value)
    {
        Bool(value is not null);
        if (value is not null)
        {
            String(value);
        }
    }

    public void Bytes(ReadOnlySpan<byte> value)
    {
        UVarint((ulong)value.Length);
        value.CopyTo(_buffer.GetSpan(value.Length));
        _buffer.Advance(value.Length);
    }

    /// <summary>An actor ref: 0 = null, 1 = Nobody, 2 = a path that the receiving system resolves (with this node's address).</summary>
    public void Ref(IActorRef? value)
    {
        switch (value)
        {
            case null:
                Byte(0);
                break;
            case Nobody:
                Byte(1);
                break;
            default:
                Byte(2);
                String(Akka.Serialization.Serialization.SerializedActorPath(value));
                break;
        }
    }

    public void List<T>(IReadOnlyCollection<T> items, Action<WireWriter, T> write)
    {
        ArgumentNullException.ThrowIfNull(items);
        UVarint((ulong)items.Count);
        foreach (T item in items)
        {
            write(this, item);
        }
    }
}
