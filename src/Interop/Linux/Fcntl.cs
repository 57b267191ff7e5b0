namespace DmaSg.Interop.Linux;

/// <summary>fcntl commands (linux/fcntl.h).</summary>
public static class FcntlCommand
{
    public const int F_GETFD = 1;
    public const int F_SETFD = 2;
    public const int F_GETFL = 3;
    public const int F_DUPFD_CLOEXEC = 1030;
    public const int F_ADD_SEALS = 1033;
    public const int F_GET_SEALS = 1034;
    public const int FD_CLOEXEC = 1;
}

/// <summary>File seals (linux/fcntl.h, F_SEAL_*).</summary>
[Flags]
public enum SealFlags
{
    None = 0,
    Seal = 0x0001,
    Shrink = 0x0002,
    Grow = 0x0004,
    Write = 0x0008,
    FutureWrite = 0x0010,
}

/// <summary>open(2) flags (asm-generic/fcntl.h).</summary>
[Flags]
public enum OpenFlags
{
    ReadOnly = 0,
    WriteOnly = 1,
    ReadWrite = 2,
    AccessModeMask = 3,
    Cloexec = 0x80000,
}

/// <summary>fallocate(2) modes (linux/falloc.h).</summary>
[Flags]
public enum FallocateMode
{
    None = 0,
    KeepSize = 0x01,
    PunchHole = 0x02,
}
