using DmaSg.Interop.Linux;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DmaSg.Interop.Tests.Linux;

public sealed class IoctlNumberTests
{
    [Property(MaxTest = 200)]
    public Property Fields_decode_back_from_the_request()
    {
        Gen<(uint Dir, char Type, uint Nr, uint Size)> fields =
            from dir in Gen.Choose(0, 3)
            from type in Gen.Choose(0, 255)
            from nr in Gen.Choose(0, 255)
            from size in Gen.Choose(0, (1 << 14) - 1)
            select ((uint)dir, (char)type, (uint)nr, (uint)size);

        return Prop.ForAll(fields.ToArbitrary(), f =>
        {
            uint request = IoctlNumber.Ioc(f.Dir, f.Type, f.Nr, f.Size);
            return request >> 30 == f.Dir
                && ((request >> 16) & 0x3FFF) == f.Size
                && ((request >> 8) & 0xFF) == f.Type
                && (request & 0xFF) == f.Nr;
        });
    }

    [Fact]
    public void Direction_helpers_set_the_direction_bits()
    {
        Assert.Equal(0x40086200u, IoctlNumber.Iow('b', 0, 8));
        Assert.Equal(0x80086200u, IoctlNumber.Ior('b', 0, 8));
        Assert.Equal(0xC0086200u, IoctlNumber.Iowr('b', 0, 8));
        Assert.Equal(0x00006200u, IoctlNumber.Ioc(IoctlNumber.None, 'b', 0, 0));
    }

    [Theory]
    [InlineData(4u, 'b', 0u, 8u)]       // direction has 2 bits
    [InlineData(1u, '\u0100', 0u, 8u)]  // type has 8 bits
    [InlineData(1u, 'b', 256u, 8u)]     // nr has 8 bits
    [InlineData(1u, 'b', 0u, 0x4000u)]  // size has 14 bits: a 16 KiB struct does not fit
    public void Field_wider_than_its_bits_is_refused(uint dir, char type, uint nr, uint size)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => IoctlNumber.Ioc(dir, type, nr, size));
    }
}
