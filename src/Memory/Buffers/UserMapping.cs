namespace DmaSg.Memory.Buffers;

/// <summary>
/// The mmap memop (vm_map_pages + vb2_common_vm_ops): the buffer's first pages mapped for the caller
/// in a range of their own. The mapping holds one buffer ref, taken when it opens and dropped exactly
/// once when it is disposed, so the pages cannot go home while the caller can still touch them.
/// </summary>
public sealed class UserMapping : IDisposable
{
    private readonly VirtualMapping _mapping;

    internal UserMapping(SgBuffer buffer, VirtualMapping mapping, long length)
    {
        Buffer = buffer;
        _mapping = mapping;
        Length = length;
    }

    /// <summary>The buffer this mapping holds a ref on.</summary>
    public SgBuffer Buffer { get; }

    /// <summary>First byte; the buffer's first byte.</summary>
    public nint Address => _mapping.Address;

    /// <summary>Bytes requested.</summary>
    public long Length { get; }

    /// <summary>Bytes actually mapped: the requested length rounded up to whole pages.</summary>
    public long MappedLength => _mapping.Length;

    /// <summary>MAP_FIXED runs it took (one per run of consecutive arena pages).</summary>
    public int Runs => _mapping.Runs;

    public bool IsClosed { get; private set; }

    /// <summary>The requested bytes (below 2 GiB).</summary>
    public Span<byte> AsSpan()
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        return _mapping.AsSpan()[..checked((int)Length)];
    }

    /// <summary>munmap + vm_close: unmaps and drops the buffer ref; a second dispose does nothing.</summary>
    public void Dispose()
    {
        if (IsClosed)
        {
            return;
        }

        IsClosed = true;
        try
        {
            _mapping.Dispose();
        }
        finally
        {
            Buffer.Put();
        }
    }
}
