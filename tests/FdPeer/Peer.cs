using System.Text;
using DmaSg.Interop;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Dma;

namespace DmaSg.FdPeer;

/// <summary>
/// The receiving side of the cross-process tests, run as its own process:
/// <c>--fd-peer SOCKET SEED_IN SEED_OUT</c>. It connects to SOCKET, receives one buffer, closes the fd
/// at once and keeps only its mapping (closing never frees memory still mapped), checks that every byte
/// is <see cref="Pattern"/>(SEED_IN), writes <see cref="Pattern"/>(SEED_OUT), checks that its own fd table
/// is back to where it started, and answers "OK kind size fds-before fds-after" or "FAIL reason".
/// Exit code 0 only when it answered OK.
/// </summary>
public static class Peer
{
    public const string Verb = "--fd-peer";

    /// <summary>The byte at <paramref name="index"/> for <paramref name="seed"/>: different for every page and seed.</summary>
    public static byte Pattern(long index, int seed) => (byte)((index * 31) + (index >> 12) + (seed * 101) + 7);

    public static int Run(string[] args)
    {
        if (args.Length != 4 || args[0] != Verb)
        {
            Console.Error.WriteLine($"usage: {Verb} SOCKET SEED_IN SEED_OUT");
            return 2;
        }

        int seedIn = int.Parse(args[2]);
        int seedOut = int.Parse(args[3]);
        using FdChannel channel = FdChannel.Connect(args[1]);
        string answer;
        try
        {
            answer = Serve(channel, seedIn, seedOut);
        }
        catch (Exception e)
        {
            answer = "FAIL " + e.GetType().Name + ": " + e.Message;
        }

        channel.Send(Encoding.UTF8.GetBytes(answer));
        return answer.StartsWith("OK ", StringComparison.Ordinal) ? 0 : 1;
    }

    /// <summary>
    /// The buffer and socket fds this process has open now: dmabufs, memfds and sockets in /proc/self/fd.
    /// The runtime's own files (assemblies it loads lazily, its pipes) come and go and are not counted.
    /// </summary>
    public static int OpenFdCount()
    {
        int count = 0;
        foreach (string entry in Directory.GetFiles("/proc/self/fd"))
        {
            string? target = null;
            try
            {
                target = new FileInfo(entry).LinkTarget;
            }
            catch (IOException)
            {
                // The directory listing's own fd, closed by now.
            }

            if (target is not null && (target.Contains("dmabuf") || target.StartsWith("/memfd:", StringComparison.Ordinal) || target.StartsWith("socket:", StringComparison.Ordinal)))
            {
                count++;
            }
        }

        return count;
    }

    private static unsafe string Serve(FdChannel channel, int seedIn, int seedOut)
    {
        int before = OpenFdCount();
        ExportKind kind;
        long size;
        using (ExportedBuffer buffer = channel.ReceiveBuffer(TimeSpan.FromSeconds(60)))
        using (SafeMapping map = buffer.Map())
        {
            kind = buffer.Kind;
            size = buffer.Size;
            var bytes = new Span<byte>((void*)map.Address, checked((int)size));

            // Bracket the CPU access as every dmabuf user must (a no-op for a memfd).
            buffer.BeginCpuAccess(DmaDirection.Bidirectional);
            for (int i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] != Pattern(i, seedIn))
                {
                    return $"FAIL byte {i} is {bytes[i]}, expected {Pattern(i, seedIn)}";
                }
            }

            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] = Pattern(i, seedOut);
            }

            buffer.EndCpuAccess(DmaDirection.Bidirectional);
        }

        int after = OpenFdCount();
        return $"OK {kind} {size} {before} {after}";
    }
}
