using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DmaSg.Cluster.Tests.Node;

/// <summary>
/// src/Node run as a real process (the DmaSg.Node.dll built beside the tests), its stdout collected line by line.
/// Disposing kills it if it is still running, so a failed test leaves nothing behind.
/// </summary>
public sealed class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly List<(string Text, TaskCompletionSource<string> Seen)> _waits = [];

    private NodeProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static NodeProcess Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "DmaSg.Node.dll"));
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        // No DMASG_* settings leak in from the environment running the tests.
        foreach (string key in info.Environment.Keys.Where(k => k.StartsWith("DMASG_", StringComparison.Ordinal)).ToArray())
        {
            info.Environment.Remove(key);
        }

        var node = new NodeProcess(new Process { StartInfo = info, EnableRaisingEvents = true });
        node._process.OutputDataReceived += (_, e) => node.OnLine(e.Data);
        node._process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (node._stderr)
                {
                    node._stderr.AppendLine(e.Data);
                }
            }
        };
        node._process.Start();
        node._process.BeginOutputReadLine();
        node._process.BeginErrorReadLine();
        return node;
    }

    /// <summary>A TCP port nobody listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The first stdout line containing <paramref name="text"/> (already printed or still to come).</summary>
    public async Task<string> WaitForLine(string text, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_stdout)
        {
            string? line = _stdout.ToString().Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }

            _waits.Add((text, seen));
        }

        Task done = await Task.WhenAny(seen.Task, Task.Delay(timeout), _process.WaitForExitAsync());
        return done == seen.Task
            ? seen.Task.Result
            : throw new TimeoutException($"no line with '{text}' within {timeout}; exited: {_process.HasExited}\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
    }

    /// <summary>Sends a signal (INT: what Ctrl+C sends; TERM: what a service manager sends).</summary>
    public async Task Signal(string signal)
    {
        using Process kill = Process.Start("kill", ["-s", signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    public async Task<int> WaitForExit(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"still running after {timeout}\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        // Let the asynchronous readers drain what the process wrote last.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_stdout)
        {
            _stdout.AppendLine(line);
            foreach ((string text, TaskCompletionSource<string> seen) in _waits.Where(w => line.Contains(w.Text, StringComparison.Ordinal)).ToArray())
            {
                seen.TrySetResult(line);
                _waits.Remove((text, seen));
            }
        }
    }
}
