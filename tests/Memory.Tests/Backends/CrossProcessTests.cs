using System.Diagnostics;
using System.Text;
using DmaSg.Interop;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Backends;
using static DmaSg.Memory.Tests.Backends.BackendTestSupport;

namespace DmaSg.Memory.Tests.Backends;

/// <summary>
/// SCM_RIGHTS between two real processes: this one and DmaSg.FdPeer. We export, write, keep only a
/// mapping and close our fd; the child maps, closes its fd, checks our bytes, writes its own and exits;
/// we then read its bytes through our mapping. (The dmabuf kinds run in tests/Kernel.Tests in a kernel
/// that has them; this machine's falls back to a sealed memfd.)
/// </summary>
[Collection(FdTableCollection.Name)]
public sealed class CrossProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Exported_arena_buffer_goes_to_a_child_process_and_its_writes_come_back()
    {
        using PageArena arena = NewArena();
        int[] pages = TakePages(arena, 6, 1, 2, 9);
        Fill(arena, pages, 31);
        using var chain = new ProviderChain(["dma-heap:dmasg-absent-heap", "memfd"]);
        ExportedBuffer buffer = chain.Export(arena, pages, "xproc");
        using SafeMapping map = buffer.Map();
        int ownFd = buffer.Fd.Fd;
        var before = OurFds();
        before.Remove(ownFd);

        string socket = Path.Combine(Path.GetTempPath(), $"dmasg-peer-{Guid.NewGuid():N}.sock");
        string answer;
        Task<string> stderr;
        using Process child = StartPeer(socket, seedIn: 31, seedOut: 47, out FdListener listener);
        using (listener)
        {
            stderr = child.StandardError.ReadToEndAsync();
            try
            {
                using FdChannel channel = listener.Accept(Timeout);
                channel.SendBuffer(buffer);
                buffer.Dispose();
                var reply = new byte[256];
                using ReceivedMessage msg = channel.Receive(reply, Timeout, maxFds: 0);
                answer = Encoding.UTF8.GetString(reply, 0, msg.Length);
                Assert.True(child.WaitForExit(Timeout), "the peer did not exit");
            }
            finally
            {
                if (!child.HasExited)
                {
                    child.Kill();
                }
            }
        }

        Assert.True(child.ExitCode == 0, $"peer exit {child.ExitCode}: {answer}\n{await stderr}");
        string[] parts = answer.Split(' ');
        Assert.Equal(["OK", "Memfd", (4 * Page).ToString()], parts[..3]);
        Assert.Equal(parts[3], parts[4]);

        // Both fds are closed and the child is gone; our mapping still holds the memory with the child's bytes.
        AssertPattern(map.AsSpan(), 47);
        Assert.Equal(before, OurFds());
    }

    [Fact]
    public void Peer_refuses_bad_usage()
    {
        using Process child = Process.Start(new ProcessStartInfo(PeerPath()) { RedirectStandardError = true, UseShellExecute = false })!;
        string err = child.StandardError.ReadToEnd();
        Assert.True(child.WaitForExit(Timeout));
        Assert.Equal(2, child.ExitCode);
        Assert.Contains("usage", err);
    }

    private static Process StartPeer(string socket, int seedIn, int seedOut, out FdListener listener)
    {
        listener = FdListener.Listen(socket);
        var start = new ProcessStartInfo(PeerPath())
        {
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(FdPeer.Peer.Verb);
        start.ArgumentList.Add(socket);
        start.ArgumentList.Add(seedIn.ToString());
        start.ArgumentList.Add(seedOut.ToString());
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the peer");
    }

    private static string PeerPath()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "DmaSg.FdPeer");
        Assert.True(File.Exists(path), $"the peer program is not built next to the tests: {path}");
        return path;
    }
}
