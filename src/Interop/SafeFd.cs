using System.Runtime.InteropServices;

namespace DmaSg.Interop;

/// <summary>An owned file descriptor; closing the handle closes the fd exactly once.</summary>
public sealed class SafeFd : SafeHandle
{
    public SafeFd() : base(new IntPtr(-1), ownsHandle: true)
    {
    }

    /// <summary>Wraps an fd this process already has (e.g. one received over SCM_RIGHTS).</summary>
    public SafeFd(int fd, bool ownsHandle) : base(new IntPtr(-1), ownsHandle)
    {
        SetHandle(new IntPtr(fd));
    }

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The raw fd number. Valid only while the handle is open.</summary>
    public int Fd => (int)handle.ToInt64();

    protected override bool ReleaseHandle() => Interop.Close((int)handle.ToInt64()) == 0;
}
