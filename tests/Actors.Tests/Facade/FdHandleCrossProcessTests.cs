using System.Diagnostics;
using System.Text;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Tests.Support;
using DmaSg.Interop;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;
using Peer = DmaSg.FdPeer.Peer;

namespace DmaSg.Actors.Tests.Facade;

/// <summary>
/// An fd exported through the actors goes to another process (DmaSg.FdPeer) with SCM_RIGHTS. The buffer's
/// bytes reach the child; the child's bytes come back into the buffer with the fd's finish. On this machine
/// the fd is a memfd copy; tests/Kernel.Tests does the same with a udmabuf inside a real kernel.
/// </summary>
[Collection(FdTableCollection.Name)]
public sealed class FdHandleCrossProcessTests(ITestOutputHelper output) : FacadeTestKit(output, Buffers.FdExportTests.ExportHocon)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_actor_exported_fd_crosses_to_a_child_process_and_bytes_go_both_ways()
    {
        int size = 5 * PageSize;
        await using BufferHandle buf = await Dmasg.AllocateAsync(size, DmaDirection.Bidirectional, name: "xproc-actors");
        SortedDictionary<int, string> fdsBefore = ProcFds.Ours();
        await buf.WriteAsync(0, Pattern(size, 31));

        string answer;
        string stderr;
        int exit;
        await using (FdHandle fd = await buf.ExportFdAsync())
        {
            string socket = Path.Combine(Path.GetTempPath(), $"dmasg-actors-peer-{Guid.NewGuid():N}.sock");
            using FdListener listener = FdListener.Listen(socket);
            using Process child = StartPeer(socket, seedIn: 31, seedOut: 47);
            Task<string> err = child.StandardError.ReadToEndAsync();
            try
            {
                using FdChannel channel = listener.Accept(Timeout);
                await fd.PrepareAsync();
                channel.SendBuffer(fd.Buffer);
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

            exit = child.ExitCode;
            stderr = await err;

            // The child has closed its fd and exited; its writes are in the fd, and finish brings them home.
            await fd.FinishAsync();
        }

        Assert.True(exit == 0, $"peer exit {exit}: {answer}\n{stderr}");
        string[] parts = answer.Split(' ');
        Assert.Equal(["OK", nameof(ExportKind.Memfd), size.ToString()], parts[..3]);
        Assert.Equal(parts[3], parts[4]);
        Assert.Equal(Pattern(size, 47), await buf.ReadAsync(0, size));
        await buf.DisposeAsync();
        await AssertNothingLeaked();
        Assert.Equal(fdsBefore, ProcFds.Ours());
    }

    private static byte[] Pattern(int size, int seed) => Enumerable.Range(0, size).Select(i => Peer.Pattern(i, seed)).ToArray();

    private static Process StartPeer(string socket, int seedIn, int seedOut)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "DmaSg.FdPeer");
        Assert.True(File.Exists(path), $"the peer program is not built next to the tests: {path}");
        var start = new ProcessStartInfo(path) { RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Peer.Verb);
        start.ArgumentList.Add(socket);
        start.ArgumentList.Add(seedIn.ToString());
        start.ArgumentList.Add(seedOut.ToString());
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the peer");
    }
}
