namespace DmaSg.Interop.Linux;

/// <summary>PROT_* (asm-generic/mman-common.h).</summary>
[Flags]
public enum Protection
{
    None = 0,
    Read = 1,
    Write = 2,
    Exec = 4,
    ReadWrite = Read | Write,
}

/// <summary>MAP_* (asm-generic/mman-common.h, linux/mman.h; x86-64 values).</summary>
[Flags]
public enum MapFlags
{
    Shared = 0x01,
    Private = 0x02,
    Fixed = 0x10,
    Anonymous = 0x20,
    NoReserve = 0x4000,
    Populate = 0x8000,
    FixedNoReplace = 0x100000,
}

/// <summary>MADV_* (asm-generic/mman-common.h).</summary>
public enum Advice
{
    Normal = 0,
    Random = 1,
    Sequential = 2,
    WillNeed = 3,
    DontNeed = 4,
    Free = 8,
    Remove = 9,
    DontFork = 10,
    DoFork = 11,
}
