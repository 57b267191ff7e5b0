using System.Reflection;
using DmaSg.Interop.Linux;

namespace DmaSg.Interop.Tests;

public sealed class ErrnoExceptionTests
{
    [Fact]
    public void Failed_call_carries_errno_call_and_a_readable_message()
    {
        var e = Assert.Throws<ErrnoException>(() => Syscall.MemfdCreate("bad", (MemfdFlags)0x8000_0000));

        Assert.IsAssignableFrom<IOException>(e);
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Equal("memfd_create", e.Call);
        Assert.Equal("memfd_create: EINVAL (22): Invalid argument", e.Message);
    }

    [Fact]
    public void Message_names_unknown_errno_values_by_number()
    {
        var e = new ErrnoException("frob", 200);

        Assert.StartsWith("frob: E200 (200): ", e.Message);
        Assert.Equal(200, e.Errno);
        Assert.Equal("frob", e.Call);
    }

    [Fact]
    public void Every_errno_constant_is_named_after_itself()
    {
        foreach (FieldInfo field in typeof(Errno).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral))
        {
            Assert.Equal(field.Name, Errno.Name((int)field.GetRawConstantValue()!));
        }
    }
}
