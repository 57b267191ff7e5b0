using System.Runtime.InteropServices;
using DmaSg.Interop.Linux;

namespace DmaSg.Interop;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "poll", SetLastError = true)]
    internal static unsafe partial int Poll(PollFd* fds, nuint nfds, int timeout);
}

public static partial class Syscall
{
    /// <summary>
    /// poll(2) of one fd: the events that happened, or <see cref="PollEvents.None"/> when
    /// <paramref name="timeoutMs"/> ran out (-1 waits forever). EINTR is the caller's to retry.
    /// </summary>
    public static unsafe PollEvents Poll(SafeFd fd, PollEvents events, int timeoutMs)
    {
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            var p = new PollFd { Fd = fd.Fd, Events = (short)events };
            int n = Interop.Poll(&p, 1, timeoutMs);
            if (n < 0)
            {
                throw ErrnoException.FromLastError("poll");
            }

            return n == 0 ? PollEvents.None : (PollEvents)p.ReturnedEvents;
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }
}
