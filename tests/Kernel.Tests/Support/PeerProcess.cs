using System.Diagnostics;
using System.Text;
using DmaSg.FdPeer;
using DmaSg.Memory.Backends;

namespace DmaSg.Kernel.Tests.Support;

/// <summary>Runs this test executable as the fd-passing child (<see cref="Peer"/>) and hands it one buffer.</summary>
internal static class PeerProcess
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Starts the child, sends <paramref name="buffer"/> over a Unix socket, then calls
    /// <paramref name="afterSend"/> (e.g. to close our fd), and returns the child's answer once it has exited.
    /// </summary>
    public static (int Exit, string Answer, string Stderr) Share(ExportedBuffer buffer, int seedIn, int seedOut, Action afterSend)
    {
        string socket = Path.Combine(Path.GetTempPath(), $"dmasg-{Guid.NewGuid():N}.sock");
        using FdListener listener = FdListener.Listen(socket);
        var start = new ProcessStartInfo(SelfExecutable())
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Peer.Verb);
        start.ArgumentList.Add(socket);
        start.ArgumentList.Add(seedIn.ToString());
        start.ArgumentList.Add(seedOut.ToString());
        using Process child = Process.Start(start) ?? throw new InvalidOperationException("could not start the peer");
        Task<string> stderr = child.StandardError.ReadToEndAsync();
        Task<string> stdout = child.StandardOutput.ReadToEndAsync();
        try
        {
            string answer;
            using (FdChannel channel = listener.Accept(Timeout))
            {
                channel.SendBuffer(buffer);
                afterSend();
                var reply = new byte[512];
                using var msg = channel.Receive(reply, Timeout, maxFds: 0);
                answer = Encoding.UTF8.GetString(reply, 0, msg.Length);
            }

            Assert.True(child.WaitForExit(Timeout), "the peer did not exit");
            return (child.ExitCode, answer, stderr.Result + stdout.Result);
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill();
            }
        }
    }

    /// <summary>The apphost of this test assembly (self-contained in the guest, framework-dependent on the host).</summary>
    private static string SelfExecutable()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "DmaSg.Kernel.Tests");
        Assert.True(File.Exists(path), $"test executable not found at {path}");
        return path;
    }
}
