using System.Buffers;
using System.Runtime.InteropServices;

namespace DmaSg.Memory.Tests.Buffers;

/// <summary>Page-aligned native memory behind a Memory&lt;byte&gt; that counts Pin/Unpin, to see pins held and dropped.</summary>
internal sealed unsafe class CountingMemoryManager : MemoryManager<byte>
{
    private readonly byte* _base;
    private readonly int _length;
    private bool _freed;

    public CountingMemoryManager(int length)
    {
        _length = length;
        _base = (byte*)NativeMemory.AlignedAlloc((nuint)length, (nuint)Environment.SystemPageSize);
        new Span<byte>(_base, length).Clear();
    }

    public int Pins { get; private set; }

    public nint Address => (nint)_base;

    public override Span<byte> GetSpan() => new(_base, _length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        Pins++;
        return new MemoryHandle(_base + elementIndex, default, this);
    }

    public override void Unpin() => Pins--;

    protected override void Dispose(bool disposing)
    {
        if (!_freed)
        {
            _freed = true;
            NativeMemory.AlignedFree(_base);
        }
    }
}
