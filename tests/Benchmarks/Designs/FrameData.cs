using System.Buffers.Binary;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Benchmarks.Designs;

/// <summary>
/// Frame contents for P2: a per-stream source image whose first and last 8 bytes carry a stamp
/// (stream, frame), so the encoder can check it read this frame and not a stale or zeroed buffer.
/// </summary>
public static class FrameData
{
    public static byte[] NewSource(int stream, long frameSize)
    {
        var source = new byte[frameSize];
        source.AsSpan().Fill((byte)(0x40 + (stream % 64)));
        return source;
    }

    public static long StampOf(int stream, int frame) => ((long)stream << 40) | (uint)frame | (1L << 62);

    public static void Stamp(Span<byte> frame, long stamp)
    {
        BinaryPrimitives.WriteInt64LittleEndian(frame, stamp);
        BinaryPrimitives.WriteInt64LittleEndian(frame[^8..], stamp);
    }

    /// <summary>Throws when the frame does not carry <paramref name="stamp"/> at both ends.</summary>
    public static void Check(ReadOnlySpan<byte> frame, long stamp, string who)
    {
        long head = BinaryPrimitives.ReadInt64LittleEndian(frame);
        long tail = BinaryPrimitives.ReadInt64LittleEndian(frame[^8..]);
        if (head != stamp || tail != stamp)
        {
            throw new InvalidOperationException($"{who}: frame stamp 0x{head:x}/0x{tail:x}, expected 0x{stamp:x}");
        }
    }

    /// <summary>The device writes <paramref name="source"/> at the DMA segments of a mapped table, in order.</summary>
    public static void DeviceWrite(IDmaDevice device, SgTable mapped, ReadOnlySpan<byte> source)
    {
        ArgumentNullException.ThrowIfNull(mapped);
        DeviceWrite(device, mapped.Dma, source);
    }

    /// <summary>The device reads <paramref name="destination"/> from the DMA segments of a mapped table, in order.</summary>
    public static void DeviceRead(IDmaDevice device, SgTable mapped, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(mapped);
        DeviceRead(device, mapped.Dma, destination);
    }

    /// <summary>The device writes <paramref name="source"/> at <paramref name="segments"/> (a cookie, a pinned table), in order.</summary>
    public static void DeviceWrite(IDmaDevice device, ReadOnlySpan<DmaSegment> segments, ReadOnlySpan<byte> source)
    {
        ArgumentNullException.ThrowIfNull(device);
        int done = 0;
        foreach (DmaSegment seg in segments)
        {
            if (done == source.Length)
            {
                break;
            }

            int n = (int)Math.Min(seg.Length, source.Length - done);
            device.Write(seg.Address, source.Slice(done, n));
            done += n;
        }
    }

    /// <summary>The device reads <paramref name="destination"/> from <paramref name="segments"/>, in order.</summary>
    public static void DeviceRead(IDmaDevice device, ReadOnlySpan<DmaSegment> segments, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(device);
        int done = 0;
        foreach (DmaSegment seg in segments)
        {
            if (done == destination.Length)
            {
                break;
            }

            int n = (int)Math.Min(seg.Length, destination.Length - done);
            device.Read(seg.Address, destination.Slice(done, n));
            done += n;
        }
    }
}
