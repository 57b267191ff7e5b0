using System.Runtime.InteropServices;

namespace DmaSg.Interop;

/// <summary>
/// An owned virtual mapping from mmap. Releasing it munmaps the whole range once, including any
/// MAP_FIXED sub-mappings placed inside it (they replace pages of this range, they do not add a range).
/// </summary>
public sealed class SafeMapping : SafeHandle
{
    internal SafeMapping(nint address, nuint length) : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
    }

    /// <summary>Length of the mapping in bytes.</summary>
    public nuint Length { get; }

    /// <summary>First byte of the mapping. Valid only while the handle is open.</summary>
    public nint Address => handle;

    public override bool IsInvalid => handle == IntPtr.Zero || handle == new IntPtr(-1);

    protected override bool ReleaseHandle() => Interop.Munmap(handle, Length) == 0;

    /// <summary>The mapping as a span; only for mappings below 2 GiB.</summary>
    /// <exception cref="ObjectDisposedException">The range is already unmapped; touching it would fault.</exception>
    public unsafe Span<byte> AsSpan()
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        return new((void*)handle, checked((int)Length));
    }
}
