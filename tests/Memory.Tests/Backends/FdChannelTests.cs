using System.Buffers.Binary;
using DmaSg.Interop;
using DmaSg.Interop.Linux;
using DmaSg.Memory.Backends;
using static DmaSg.Memory.Tests.Backends.BackendTestSupport;

namespace DmaSg.Memory.Tests.Backends;

/// <summary>Buffers over SCM_RIGHTS in one process; malformed messages close what they carried.</summary>
public sealed class FdChannelTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_buffer_crosses_with_its_kind_size_and_name_and_shares_its_bytes()
    {
        (FdChannel a, FdChannel b) = FdChannel.CreatePair();
        using (a)
        using (b)
        using (var provider = new MemfdProvider())
        using (ExportedBuffer sent = provider.Allocate(2 * Page, "crossing"))
        {
            a.SendBuffer(sent);
            using ExportedBuffer received = b.ReceiveBuffer(Long);

            Assert.Equal(ExportKind.Memfd, received.Kind);
            Assert.Equal(2 * Page, received.Size);
            Assert.Equal("crossing", received.Name);
            Assert.NotEqual(sent.Fd.Fd, received.Fd.Fd);
            using SafeMapping s = sent.Map();
            using SafeMapping r = received.Map();
            s.AsSpan()[Page + 3] = 42;
            Assert.Equal(42, r.AsSpan()[Page + 3]);
        }
    }

    [Fact]
    public void Nothing_to_receive_times_out_and_a_closed_peer_is_Io()
    {
        (FdChannel a, FdChannel b) = FdChannel.CreatePair();
        using (a)
        {
            Assert.Throws<TimeoutException>(() => a.ReceiveBuffer(Short));
            b.Dispose();
            Assert.Equal(DmaSgError.Io, Assert.Throws<DmaSgException>(() => a.ReceiveBuffer(Long)).Error);
        }
    }

    [Fact]
    public void Malformed_messages_are_refused_and_every_fd_they_carried_is_closed()
    {
        (FdChannel a, FdChannel b) = FdChannel.CreatePair();
        using (a)
        using (b)
        {
            string name = "carried-" + Guid.NewGuid().ToString("N")[..8];
            using SafeFd m = Syscall.MemfdCreate("dmasg:" + name, MemfdFlags.Cloexec);
            Syscall.Ftruncate(m, Page);
            byte[] good = Header(ExportKind.Memfd, Page, "x");

            byte[] badMagic = (byte[])good.Clone();
            badMagic[0] ^= 0xFF;
            byte[] badLength = (byte[])good.Clone();
            BinaryPrimitives.WriteUInt16LittleEndian(badLength.AsSpan(6), 200);
            byte[] lyingSize = Header(ExportKind.Memfd, 5 * Page, "x");
            byte[] badKind = Header((ExportKind)77, Page, "x");

            foreach ((byte[] msg, SafeFd[] fds) in new[]
            {
                (badMagic, new[] { m }),
                (badLength, new[] { m }),
                (lyingSize, new[] { m }),
                (badKind, new[] { m }),
                (good, new[] { m, m }),
                (good, Array.Empty<SafeFd>()),
                (good, new[] { m, m, m, m }),
            })
            {
                a.Send(msg, fds);
                Assert.Equal(DmaSgError.InvalidArgument, Assert.Throws<DmaSgException>(() => b.ReceiveBuffer(Long)).Error);
            }

            // Only our own fd for the memfd is left.
            Assert.Equal(1, OurFds().Values.Count(t => t.StartsWith($"/memfd:dmasg:{name}", StringComparison.Ordinal)));

            // And the channel still works.
            a.Send(good, [m]);
            using ExportedBuffer ok = b.ReceiveBuffer(Long);
            Assert.Equal(Page, ok.Size);
        }
    }

    [Fact]
    public void Listener_accepts_a_peer_by_path_times_out_without_one_and_removes_its_path()
    {
        string path = Path.Combine(Path.GetTempPath(), $"dmasg-chan-{Guid.NewGuid():N}.sock");
        using (FdListener listener = FdListener.Listen(path))
        {
            Assert.Throws<TimeoutException>(() => listener.Accept(Short));
            using FdChannel client = FdChannel.Connect(path);
            using FdChannel server = listener.Accept(Long);
            client.Send("ping"u8);
            var buf = new byte[8];
            using ReceivedMessage msg = server.Receive(buf, Long, maxFds: 0);
            Assert.Equal("ping"u8.ToArray(), buf[..msg.Length]);
            Assert.Throws<ArgumentException>(() => client.Send(ReadOnlySpan<byte>.Empty));
        }

        Assert.False(File.Exists(path));
        Assert.Equal(Errno.ENOENT, Assert.Throws<ErrnoException>(() => FdChannel.Connect(path)).Errno);
    }

    private static byte[] Header(ExportKind kind, long size, string name)
    {
        var m = new byte[16 + name.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(m, 0x42475344);
        m[4] = 1;
        m[5] = (byte)kind;
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(6), (ushort)name.Length);
        BinaryPrimitives.WriteInt64LittleEndian(m.AsSpan(8), size);
        System.Text.Encoding.ASCII.GetBytes(name).CopyTo(m, 16);
        return m;
    }
}
