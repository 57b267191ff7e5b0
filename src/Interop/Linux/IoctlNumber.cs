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

    public static uint Ioc(uint dir, char type, uint nr, uint size) =>
        (dir << DirShift) | ((uint)type << TypeShift) | (nr << NrShift) | (size << SizeShift);

    public static uint Iow(char type, uint nr, uint size) => Ioc(Write, type, nr, size);

    public static uint Ior(char type, uint nr, uint size) => Ioc(Read, type, nr, size);

    public static uint Iowr(char type, uint nr, uint size) => Ioc(Read | Write, type, nr, size);
}
