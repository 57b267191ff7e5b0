using DmaSg.Memory;
using DmaSg.Memory.Dma;
using DmaSg.Memory.ScatterGather;

namespace DmaSg.Actors.Support;

/// <summary>
/// A simulated device moving bytes at buffer offsets: the offsets are walked through the mapping's DMA
/// segments (which cover the buffer's bytes in order) and each piece is a device Read/Write at its DMA address.
/// </summary>
internal static class DmaAccess
{
    public static void Write(IDmaDevice device, IReadOnlyList<DmaSegment> segments, long size, long offset, ReadOnlySpan<byte> data)
    {
        Check(segments, size, offset, data.Length);
        int done = 0;
        long start = 0;
        foreach (DmaSegment seg in segments)
        {
            if (done == data.Length)
            {
                break;
            }

            long end = start + seg.Length;
            long pos = offset + done;
            if (pos < end)
            {
                int n = (int)Math.Min(end - pos, data.Length - done);
                device.Write(seg.Address + (pos - start), data.Slice(done, n));
                done += n;
            }

            start = end;
        }
    }

    public static byte[] Read(IDmaDevice device, IReadOnlyList<DmaSegment> segments, long size, long offset, int count)
    {
        Check(segments, size, offset, count);
        var data = new byte[count];
        int done = 0;
        long start = 0;
        foreach (DmaSegment seg in segments)
        {
            if (done == count)
            {
                break;
            }

            long end = start + seg.Length;
            long pos = offset + done;
            if (pos < end)
            {
                int n = (int)Math.Min(end - pos, count - done);
                device.Read(seg.Address + (pos - start), data.AsSpan(done, n));
                done += n;
            }

            start = end;
        }

        return data;
    }

    /// <summary>Bounds of a CPU or device access: Fault outside [0, size), InvalidArgument for a negative count.</summary>
    public static void CheckRange(long size, long offset, long count)
    {
        if (count < 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"byte count {count} is negative");
        }

        if (offset < 0 || offset > size || count > size - offset)
        {
            throw new DmaSgException(DmaSgError.Fault, $"{count} bytes at {offset} are outside the {size}-byte buffer");
        }
    }

    private static void Check(IReadOnlyList<DmaSegment> segments, long size, long offset, long count)
    {
        CheckRange(size, offset, count);
        if (segments.Count == 0)
        {
            throw new DmaSgException(DmaSgError.NotPinned, "the buffer is not mapped for the device");
        }

        long mapped = segments.Sum(s => s.Length);
        if (offset + count > mapped)
        {
            throw new DmaSgException(DmaSgError.Fault, $"{count} bytes at {offset} are outside the {mapped} mapped bytes");
        }
    }
}
