using System.Runtime.InteropServices;

namespace DmaSg.Interop;

/// <summary>A failed system call: the errno it set and the call's name, e.g. "memfd_create: EINVAL (22)".</summary>
public sealed class ErrnoException : IOException
{
    public ErrnoException(string call, int errno)
        : base($"{call}: {DmaSg.Interop.Errno.Name(errno)} ({errno}): {Marshal.GetPInvokeErrorMessage(errno)}")
    {
        Call = call;
        Errno = errno;
        HResult = errno;
    }

    /// <summary>The C library call that failed.</summary>
    public string Call { get; }

    /// <summary>The errno value (names in <see cref="DmaSg.Interop.Errno"/>).</summary>
    public int Errno { get; }

    /// <summary>Throws the pending errno of the last P/Invoke for <paramref name="call"/>.</summary>
    internal static ErrnoException FromLastError(string call) => new(call, Marshal.GetLastPInvokeError());
}
