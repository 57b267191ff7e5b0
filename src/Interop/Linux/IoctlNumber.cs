namespace DmaSg.Interop.Linux;

/// <summary>The _IOC encoding of asm-generic/ioctl.h: dir(2) | size(14) | type(8) | nr(8).</summary>
public static class IoctlNumber
{
    private const int NrShift = 0;
    private const int TypeShift = 8;
    private const int SizeShift = 16;
    private const int DirShift = 30;

    public const uint None = 0;
    public const uint Write = 1;
    public const uint Read = 2;

    private const uint DirMax = (1u << 2) - 1;
    private const uint TypeMax = (1u << 8) - 1;
    private const uint NrMax = (1u << 8) - 1;
    private const uint SizeMax = (1u << 14) - 1;

    /// <summary>
    /// _IOC(dir, type, nr, size). A field wider than its bits would spill into the next one and give a
    /// different, valid-looking request, so it is refused (the kernel's _IOC_TYPECHECK does the same at compile time).
    /// </summary>
    public static uint Ioc(uint dir, char type, uint nr, uint size)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dir, DirMax);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)type, TypeMax, nameof(type));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nr, NrMax);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, SizeMax);
        return (dir << DirShift) | ((uint)type << TypeShift) | (nr << NrShift) | (size << SizeShift);
    }

    public static uint Iow(char type, uint nr, uint size) => Ioc(Write, type, nr, size);

    public static uint Ior(char type, uint nr, uint size) => Ioc(Read, type, nr, size);

    public static uint Iowr(char type, uint nr, uint size) => Ioc(Read | Write, type, nr, size);
}
