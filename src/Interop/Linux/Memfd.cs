namespace DmaSg.Interop.Linux;

/// <summary>linux/memfd.h</summary>
[Flags]
public enum MemfdFlags : uint
{
    None = 0,
    Cloexec = 0x0001,
    AllowSealing = 0x0002,
    HugeTlb = 0x0004,
    NoExecSeal = 0x0008,
    Exec = 0x0010,
}
