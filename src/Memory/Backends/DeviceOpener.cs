using DmaSg.Interop;
using DmaSg.Interop.Linux;

namespace DmaSg.Memory.Backends;

/// <summary>Opens a device node once, on first use, and remembers the fd or the reason it failed.</summary>
internal sealed class DeviceOpener : IDisposable
{
    private readonly Lazy<(SafeFd? Fd, ProviderStatus Status)> _open;

    public DeviceOpener(string path, OpenFlags flags, string missingHint)
    {
        Path = path;
        _open = new Lazy<(SafeFd?, ProviderStatus)>(() => Open(path, flags, missingHint), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string Path { get; }

    public ProviderStatus Status => _open.Value.Status;

    /// <summary>The open device, or DeviceGone with the reason it could not be opened.</summary>
    public SafeFd Fd => _open.Value.Fd ?? throw new DmaSgException(DmaSgError.DeviceGone, _open.Value.Status.Reason);

    public void Dispose()
    {
        if (_open.IsValueCreated)
        {
            _open.Value.Fd?.Dispose();
        }
    }

    private static (SafeFd?, ProviderStatus) Open(string path, OpenFlags flags, string missingHint)
    {
        try
        {
            return (Syscall.Open(path, flags | OpenFlags.Cloexec), ProviderStatus.Ok);
        }
        catch (ErrnoException e)
        {
            string why = e.Errno switch
            {
                Errno.ENOENT or Errno.ENODEV => $"missing device {path} ({missingHint})",
                Errno.EACCES or Errno.EPERM => $"permission denied on {path} (give this user read/write access, e.g. a udev rule or group)",
                _ => $"cannot open {path}",
            };
            return (null, ProviderStatus.Unusable($"{why}: {e.Message}"));
        }
    }
}
