namespace DmaSg.Memory;

/// <summary>The typed failures of the buffer manager; the kernel's errno in brackets.</summary>
public enum DmaSgError
{
    /// <summary>Bad argument: size 0, overflow, unknown direction (EINVAL).</summary>
    InvalidArgument,

    /// <summary>No pages, no bounce slots, no IOVA space (ENOMEM).</summary>
    OutOfMemory,

    /// <summary>A size larger than the dmabuf, an access outside the buffer (EFAULT).</summary>
    Fault,

    /// <summary>Pin of an importer that has no attachment.</summary>
    NotAttached,

    /// <summary>Pin of a buffer that is already pinned (where that is an error).</summary>
    AlreadyPinned,

    /// <summary>Unpin of a buffer that is not pinned.</summary>
    NotPinned,

    /// <summary>An operation on an object whose last reference is gone.</summary>
    UseAfterRelease,

    /// <summary>A holder would exceed its page quota.</summary>
    QuotaExceeded,

    /// <summary>The device was removed or refuses new work.</summary>
    DeviceGone,

    /// <summary>The device failed to map or move data (EIO).</summary>
    Io,

    /// <summary>The DMA-API checker caught a misuse (CONFIG_DMA_API_DEBUG).</summary>
    DmaApiViolation,

    /// <summary>
    /// No buffer free in a pool and the request may not wait (EAGAIN): the pool fails at once when empty, its
    /// queue of waiters is full, or the wait timed out.
    /// </summary>
    WouldBlock,
}

/// <summary>A typed failure from the memory layer; actors turn it into a failure reply.</summary>
public class DmaSgException : Exception
{
    public DmaSgException(DmaSgError error, string message, Exception? inner = null)
        : base($"{error}: {message}", inner)
    {
        Error = error;
        Detail = message;
    }

    public DmaSgError Error { get; }

    /// <summary>The message without the error-code prefix.</summary>
    public string Detail { get; }
}
