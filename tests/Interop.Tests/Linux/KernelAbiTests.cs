using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using DmaSg.Interop.Linux;
using DmaSg.Interop.Tests.Support;
using Xunit.Abstractions;

namespace DmaSg.Interop.Tests.Linux;

/// <summary>
/// Checks the C# struct layouts, ioctl numbers and constants of DmaSg.Interop against what gcc
/// computes from the real uapi and glibc headers.
/// </summary>
public sealed class KernelAbiTests(ITestOutputHelper output)
{
    /// <summary>Constants added to the uapi headers after the oldest linux-libc-dev we build with.</summary>
    private static readonly Dictionary<string, string> NewerThanHeaders = new()
    {
        ["MFD_NOEXEC_SEAL"] = "Linux 6.3",
        ["MFD_EXEC"] = "Linux 6.3",
    };

    /// <summary>C# members that have no uapi counterpart: paths and udmabuf.c module parameters.</summary>
    private static readonly HashSet<string> NotInUapi =
    [
        "DmaHeap.DevicePath",
        "Udmabuf.DevicePath",
        "Udmabuf.DefaultListLimit",
        "Udmabuf.DefaultSizeLimitMb",
        "SocketLevel.ScmMaxFd",
    ];

    private static readonly string[] RequiredHeaders =
    [
        "/usr/include/linux/dma-heap.h",
        "/usr/include/linux/dma-buf.h",
        "/usr/include/linux/udmabuf.h",
        "/usr/include/linux/memfd.h",
    ];

    [GccFact]
    public void Struct_layouts_ioctl_numbers_and_constants_match_gcc()
    {
        string[] missing = RequiredHeaders.Where(h => !File.Exists(h)).ToArray();
        Assert.True(missing.Length == 0,
            $"gcc is installed but kernel uapi headers are missing ({string.Join(", ", missing)}): install linux-libc-dev");

        IReadOnlyList<AbiEntry> entries = Entries().ToList();
        Dictionary<string, string> fromC = CompileAndRun(CProgram(entries));

        var failures = new List<string>();
        foreach (AbiEntry entry in entries)
        {
            if (!fromC.TryGetValue(entry.C, out string? value))
            {
                failures.Add($"{entry.C}: not printed by the C program");
            }
            else if (value == "undefined")
            {
                if (NewerThanHeaders.TryGetValue(entry.C, out string? since))
                {
                    output.WriteLine($"{entry.C}: not defined by these headers (added in {since}), not checked");
                }
                else
                {
                    failures.Add($"{entry.C}: not defined by the headers");
                }
            }
            else if (ulong.Parse(value) != entry.Value)
            {
                failures.Add($"{entry.C} = {value} (0x{ulong.Parse(value):X}) in C, but {entry.CSharp} = {entry.Value} (0x{entry.Value:X})");
            }
        }

        output.WriteLine($"{entries.Count} values compared with gcc, {failures.Count} mismatches");
        Assert.True(failures.Count == 0, "C# and the kernel headers disagree:\n" + string.Join("\n", failures));
    }

    /// <summary>A new constant, enum member or struct field must come with its C name, or this fails.</summary>
    [Fact]
    public void Every_constant_enum_member_and_struct_field_is_compared_with_C()
    {
        var covered = Entries().Select(e => e.Member).ToHashSet();
        var uncovered = new List<string>();
        foreach (Type type in typeof(MapFlags).Assembly.GetTypes().Where(t => t.Namespace == typeof(MapFlags).Namespace))
        {
            IEnumerable<string> members = type switch
            {
                { IsEnum: true } => type.GetFields(BindingFlags.Public | BindingFlags.Static)
                    .Where(f => !(f.Name == "None" && Convert.ToUInt64(f.GetRawConstantValue()) == 0 && type != typeof(Protection)))
                    .Select(f => f.Name),
                { IsValueType: true } => type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance).Select(f => f.Name),
                _ => type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static).Select(f => f.Name),
            };
            uncovered.AddRange(members.Select(m => $"{type.Name}.{m}").Where(m => !covered.Contains(m) && !NotInUapi.Contains(m)));
        }

        uncovered.AddRange(typeof(Errno).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => $"Errno.{f.Name}").Where(m => !covered.Contains(m)));
        Assert.Empty(uncovered);
    }

    /// <summary>The numbers stated in the issue, independent of any compiler.</summary>
    [Fact]
    public void Ioctl_numbers_are_the_documented_literals()
    {
        Assert.Equal(0xC0184800u, DmaHeap.IoctlAlloc);
        Assert.Equal(0x40086200u, DmaBuf.IoctlSync);
        Assert.Equal(0x40086201u, DmaBuf.IoctlSetNameB);
        Assert.Equal(0x40187542u, Udmabuf.IoctlCreate);
        Assert.Equal(0x40087543u, Udmabuf.IoctlCreateList);
    }

    [Fact]
    public void Struct_layouts_are_the_documented_sizes_and_offsets()
    {
        Assert.Equal(24, Marshal.SizeOf<DmaHeapAllocationData>());
        Assert.Equal(0, (int)Marshal.OffsetOf<DmaHeapAllocationData>(nameof(DmaHeapAllocationData.Len)));
        Assert.Equal(8, (int)Marshal.OffsetOf<DmaHeapAllocationData>(nameof(DmaHeapAllocationData.Fd)));
        Assert.Equal(12, (int)Marshal.OffsetOf<DmaHeapAllocationData>(nameof(DmaHeapAllocationData.FdFlags)));
        Assert.Equal(16, (int)Marshal.OffsetOf<DmaHeapAllocationData>(nameof(DmaHeapAllocationData.HeapFlags)));
        Assert.Equal(24, Marshal.SizeOf<UdmabufCreate>());
        Assert.Equal(8, Marshal.SizeOf<UdmabufCreateListHeader>());
        Assert.Equal(24, Marshal.SizeOf<UdmabufCreateItem>());
        Assert.Equal(8, (int)Marshal.OffsetOf<UdmabufCreateItem>(nameof(UdmabufCreateItem.Offset)));
        Assert.Equal(16, (int)Marshal.OffsetOf<UdmabufCreateItem>(nameof(UdmabufCreateItem.Size)));
        Assert.Equal(8, Marshal.SizeOf<DmaBufSyncData>());
        Assert.Equal(56, Marshal.SizeOf<MsgHdr>());
        Assert.Equal(16, (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.Iov)));
        Assert.Equal(48, (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.Flags)));
        Assert.Equal(16, Marshal.SizeOf<CmsgHdr>());
        Assert.Equal(16, Marshal.SizeOf<IoVec>());
        Assert.Equal(8, Marshal.SizeOf<PollFd>());
        Assert.Equal(110, SockaddrUn.Size);
        Assert.Equal(20, Cmsg.Len(sizeof(int)));
        Assert.Equal(24, Cmsg.Space(sizeof(int)));

        // The blittable layout the ioctl sees is the managed one too.
        Assert.Equal(24, Unsafe.SizeOf<DmaHeapAllocationData>());
        Assert.Equal(24, Unsafe.SizeOf<UdmabufCreate>());
        Assert.Equal(24, Unsafe.SizeOf<UdmabufCreateItem>());
    }

    /// <summary>One value to compare: the C expression gcc evaluates, the C# value, and the C# member it checks.</summary>
    private sealed record AbiEntry(string C, ulong Value, string CSharp, string Member);

    private static IEnumerable<AbiEntry> Entries()
    {
        IEnumerable<AbiEntry>[] groups =
        [
            Struct<DmaHeapAllocationData>("dma_heap_allocation_data",
                ("len", nameof(DmaHeapAllocationData.Len)),
                ("fd", nameof(DmaHeapAllocationData.Fd)),
                ("fd_flags", nameof(DmaHeapAllocationData.FdFlags)),
                ("heap_flags", nameof(DmaHeapAllocationData.HeapFlags))),
            Struct<DmaBufSyncData>("dma_buf_sync", ("flags", nameof(DmaBufSyncData.Flags))),
            Struct<UdmabufCreate>("udmabuf_create",
                ("memfd", nameof(UdmabufCreate.Memfd)),
                ("flags", nameof(UdmabufCreate.Flags)),
                ("offset", nameof(UdmabufCreate.Offset)),
                ("size", nameof(UdmabufCreate.Size))),
            Struct<UdmabufCreateItem>("udmabuf_create_item",
                ("memfd", nameof(UdmabufCreateItem.Memfd)),
                ("__pad", nameof(UdmabufCreateItem.Pad)),
                ("offset", nameof(UdmabufCreateItem.Offset)),
                ("size", nameof(UdmabufCreateItem.Size))),
            Struct<IoVec>("iovec", ("iov_base", nameof(IoVec.Base)), ("iov_len", nameof(IoVec.Length))),
            Struct<MsgHdr>("msghdr",
                ("msg_name", nameof(MsgHdr.Name)),
                ("msg_namelen", nameof(MsgHdr.NameLength)),
                ("msg_iov", nameof(MsgHdr.Iov)),
                ("msg_iovlen", nameof(MsgHdr.IovLength)),
                ("msg_control", nameof(MsgHdr.Control)),
                ("msg_controllen", nameof(MsgHdr.ControlLength)),
                ("msg_flags", nameof(MsgHdr.Flags))),
            Struct<CmsgHdr>("cmsghdr",
                ("cmsg_len", nameof(CmsgHdr.Length)),
                ("cmsg_level", nameof(CmsgHdr.Level)),
                ("cmsg_type", nameof(CmsgHdr.Type))),
            Struct<PollFd>("pollfd",
                ("fd", nameof(PollFd.Fd)),
                ("events", nameof(PollFd.Events)),
                ("revents", nameof(PollFd.ReturnedEvents))),
            Struct<UdmabufCreateListHeader>("udmabuf_create_list",
                ("flags", nameof(UdmabufCreateListHeader.Flags)),
                ("count", nameof(UdmabufCreateListHeader.Count))),
            [
                // The header is everything before the flexible array of items.
                new("offsetof(struct udmabuf_create_list, list)", (ulong)Marshal.SizeOf<UdmabufCreateListHeader>(),
                    "Marshal.SizeOf<UdmabufCreateListHeader>()", "UdmabufCreateListHeader"),
                Static(typeof(DmaHeap), nameof(DmaHeap.IoctlAlloc), "DMA_HEAP_IOCTL_ALLOC"),
                Static(typeof(DmaHeap), nameof(DmaHeap.ValidFdFlags), "DMA_HEAP_VALID_FD_FLAGS"),
                Static(typeof(DmaBuf), nameof(DmaBuf.IoctlSync), "DMA_BUF_IOCTL_SYNC"),
                Static(typeof(DmaBuf), nameof(DmaBuf.IoctlSetNameB), "DMA_BUF_SET_NAME_B"),
                Static(typeof(DmaBuf), nameof(DmaBuf.NameLength), "DMA_BUF_NAME_LEN"),
                Static(typeof(Udmabuf), nameof(Udmabuf.IoctlCreate), "UDMABUF_CREATE"),
                Static(typeof(Udmabuf), nameof(Udmabuf.IoctlCreateList), "UDMABUF_CREATE_LIST"),
                Static(typeof(Udmabuf), nameof(Udmabuf.FlagsCloexec), "UDMABUF_FLAGS_CLOEXEC"),
                Static(typeof(IoctlNumber), nameof(IoctlNumber.None), "_IOC_NONE"),
                Static(typeof(IoctlNumber), nameof(IoctlNumber.Write), "_IOC_WRITE"),
                Static(typeof(IoctlNumber), nameof(IoctlNumber.Read), "_IOC_READ"),
                Static(typeof(IoctlNumber), "NrShift", "_IOC_NRSHIFT"),
                Static(typeof(IoctlNumber), "TypeShift", "_IOC_TYPESHIFT"),
                Static(typeof(IoctlNumber), "SizeShift", "_IOC_SIZESHIFT"),
                Static(typeof(IoctlNumber), "DirShift", "_IOC_DIRSHIFT"),
                Static(typeof(IoctlNumber), "DirMax", "_IOC_DIRMASK"),
                Static(typeof(IoctlNumber), "TypeMax", "_IOC_TYPEMASK"),
                Static(typeof(IoctlNumber), "NrMax", "_IOC_NRMASK"),
                Static(typeof(IoctlNumber), "SizeMax", "_IOC_SIZEMASK"),
                new("_IOC(_IOC_READ|_IOC_WRITE, 'x', 0xff, 0x3fff)", IoctlNumber.Ioc(IoctlNumber.Read | IoctlNumber.Write, 'x', 0xff, 0x3fff),
                    "IoctlNumber.Ioc(Read|Write, 'x', 0xff, 0x3fff)", "IoctlNumber.Ioc"),
                new("_IOR('r', 7, __u32)", IoctlNumber.Ior('r', 7, sizeof(uint)), "IoctlNumber.Ior('r', 7, 4)", "IoctlNumber.Ior"),
                Static(typeof(SocketFamily), nameof(SocketFamily.AF_UNIX), "AF_UNIX"),
                Static(typeof(SocketLevel), nameof(SocketLevel.SOL_SOCKET), "SOL_SOCKET"),
                Static(typeof(SocketLevel), nameof(SocketLevel.SCM_RIGHTS), "SCM_RIGHTS"),
                Static(typeof(SockaddrUn), nameof(SockaddrUn.PathOffset), "offsetof(struct sockaddr_un, sun_path)"),
                Static(typeof(SockaddrUn), nameof(SockaddrUn.PathLength), "sizeof(((struct sockaddr_un *)0)->sun_path)"),
                Static(typeof(SockaddrUn), nameof(SockaddrUn.Size), "sizeof(struct sockaddr_un)"),
                new("CMSG_LEN(3 * sizeof(int))", (ulong)Cmsg.Len(3 * sizeof(int)), "Cmsg.Len(12)", "Cmsg.Len"),
                new("CMSG_SPACE(3 * sizeof(int))", (ulong)Cmsg.Space(3 * sizeof(int)), "Cmsg.Space(12)", "Cmsg.Space"),
                new("CMSG_SPACE(sizeof(int))", (ulong)Cmsg.Space(sizeof(int)), "Cmsg.Space(4)", "Cmsg.Space"),
                new("CMSG_ALIGN(13)", (ulong)Cmsg.Align(13), "Cmsg.Align(13)", "Cmsg.Align"),
                new("(uintptr_t)CMSG_DATA((struct cmsghdr *)0)", (ulong)Cmsg.DataOffset, "Cmsg.DataOffset", "Cmsg.DataOffset"),
                new("(uintptr_t)MAP_FAILED", unchecked((ulong)(long)Interop.MapFailed), "Interop.MapFailed", "Interop.MapFailed"),
            ],
            Enum(new Dictionary<DmaBufSyncFlags, string>
            {
                [DmaBufSyncFlags.Start] = "DMA_BUF_SYNC_START",
                [DmaBufSyncFlags.Read] = "DMA_BUF_SYNC_READ",
                [DmaBufSyncFlags.Write] = "DMA_BUF_SYNC_WRITE",
                [DmaBufSyncFlags.ReadWrite] = "DMA_BUF_SYNC_RW",
                [DmaBufSyncFlags.End] = "DMA_BUF_SYNC_END",
            }),
            Enum(new Dictionary<SocketType, string>
            {
                [SocketType.Stream] = "SOCK_STREAM",
                [SocketType.Datagram] = "SOCK_DGRAM",
                [SocketType.SeqPacket] = "SOCK_SEQPACKET",
                [SocketType.NonBlock] = "SOCK_NONBLOCK",
                [SocketType.Cloexec] = "SOCK_CLOEXEC",
            }),
            Enum(new Dictionary<MsgFlags, string>
            {
                [MsgFlags.ControlTruncated] = "MSG_CTRUNC",
                [MsgFlags.Truncated] = "MSG_TRUNC",
                [MsgFlags.DontWait] = "MSG_DONTWAIT",
                [MsgFlags.NoSignal] = "MSG_NOSIGNAL",
                [MsgFlags.CmsgCloexec] = "MSG_CMSG_CLOEXEC",
            }),
            Enum(new Dictionary<PollEvents, string>
            {
                [PollEvents.In] = "POLLIN",
                [PollEvents.Out] = "POLLOUT",
                [PollEvents.Error] = "POLLERR",
                [PollEvents.HangUp] = "POLLHUP",
                [PollEvents.Invalid] = "POLLNVAL",
            }),
            Enum(new Dictionary<Whence, string>
            {
                [Whence.Set] = "SEEK_SET",
                [Whence.Current] = "SEEK_CUR",
                [Whence.End] = "SEEK_END",
            }),
            Enum(new Dictionary<MemfdFlags, string>
            {
                [MemfdFlags.Cloexec] = "MFD_CLOEXEC",
                [MemfdFlags.AllowSealing] = "MFD_ALLOW_SEALING",
                [MemfdFlags.HugeTlb] = "MFD_HUGETLB",
                [MemfdFlags.NoExecSeal] = "MFD_NOEXEC_SEAL",
                [MemfdFlags.Exec] = "MFD_EXEC",
            }),
            Enum(new Dictionary<SealFlags, string>
            {
                [SealFlags.Seal] = "F_SEAL_SEAL",
                [SealFlags.Shrink] = "F_SEAL_SHRINK",
                [SealFlags.Grow] = "F_SEAL_GROW",
                [SealFlags.Write] = "F_SEAL_WRITE",
                [SealFlags.FutureWrite] = "F_SEAL_FUTURE_WRITE",
            }),
            Enum(new Dictionary<OpenFlags, string>
            {
                [OpenFlags.ReadOnly] = "O_RDONLY",
                [OpenFlags.WriteOnly] = "O_WRONLY",
                [OpenFlags.ReadWrite] = "O_RDWR",
                [OpenFlags.AccessModeMask] = "O_ACCMODE",
                [OpenFlags.Cloexec] = "O_CLOEXEC",
            }),
            Enum(new Dictionary<FallocateMode, string>
            {
                [FallocateMode.KeepSize] = "FALLOC_FL_KEEP_SIZE",
                [FallocateMode.PunchHole] = "FALLOC_FL_PUNCH_HOLE",
            }),
            Enum(new Dictionary<Protection, string>
            {
                [Protection.None] = "PROT_NONE",
                [Protection.Read] = "PROT_READ",
                [Protection.Write] = "PROT_WRITE",
                [Protection.Exec] = "PROT_EXEC",
                [Protection.ReadWrite] = "PROT_READ|PROT_WRITE",
            }),
            Enum(new Dictionary<MapFlags, string>
            {
                [MapFlags.Shared] = "MAP_SHARED",
                [MapFlags.Private] = "MAP_PRIVATE",
                [MapFlags.Fixed] = "MAP_FIXED",
                [MapFlags.Anonymous] = "MAP_ANONYMOUS",
                [MapFlags.NoReserve] = "MAP_NORESERVE",
                [MapFlags.Populate] = "MAP_POPULATE",
                [MapFlags.FixedNoReplace] = "MAP_FIXED_NOREPLACE",
            }),
            Enum(new Dictionary<Advice, string>
            {
                [Advice.Normal] = "MADV_NORMAL",
                [Advice.Random] = "MADV_RANDOM",
                [Advice.Sequential] = "MADV_SEQUENTIAL",
                [Advice.WillNeed] = "MADV_WILLNEED",
                [Advice.DontNeed] = "MADV_DONTNEED",
                [Advice.Free] = "MADV_FREE",
                [Advice.Remove] = "MADV_REMOVE",
                [Advice.DontFork] = "MADV_DONTFORK",
                [Advice.DoFork] = "MADV_DOFORK",
            }),
            // These C# names are the C names.
            Consts(typeof(FcntlCommand)),
            Consts(typeof(Errno)),
        ];
        return groups.SelectMany(g => g);
    }

    private static IEnumerable<AbiEntry> Struct<T>(string cStruct, params (string C, string CSharp)[] fields)
        where T : struct
    {
        string t = typeof(T).Name;
        yield return new($"sizeof(struct {cStruct})", (ulong)Marshal.SizeOf<T>(), $"Marshal.SizeOf<{t}>()", t);
        foreach ((string c, string cs) in fields)
        {
            FieldInfo field = typeof(T).GetField(cs) ?? throw new MissingFieldException(t, cs);
            yield return new($"offsetof(struct {cStruct}, {c})", (ulong)Marshal.OffsetOf<T>(cs), $"Marshal.OffsetOf<{t}>({cs})", $"{t}.{cs}");
            yield return new($"sizeof(((struct {cStruct} *)0)->{c})", (ulong)Marshal.SizeOf(field.FieldType), $"sizeof({t}.{cs})", $"{t}.{cs}");
        }
    }

    private static AbiEntry Static(Type type, string name, string c)
    {
        FieldInfo field = type.GetField(name, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            ?? throw new MissingFieldException(type.Name, name);
        object value = (field.IsLiteral ? field.GetRawConstantValue() : field.GetValue(null))!;
        return new(c, Convert.ToUInt64(value), $"{type.Name}.{name}", $"{type.Name}.{name}");
    }

    private static IEnumerable<AbiEntry> Consts(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => Static(type, f.Name, f.Name));

    private static IEnumerable<AbiEntry> Enum<TEnum>(Dictionary<TEnum, string> cNames)
        where TEnum : struct, System.Enum =>
        cNames.Select(kv => new AbiEntry(kv.Value, Convert.ToUInt64(kv.Key), $"{typeof(TEnum).Name}.{kv.Key}", $"{typeof(TEnum).Name}.{kv.Key}"));

    private static string CProgram(IEnumerable<AbiEntry> entries)
    {
        var c = new StringBuilder("""
            #define _GNU_SOURCE
            /* linux/memfd.h first: glibc's sys/mman.h only defines MFD_* when they are not yet defined. */
            #include <linux/memfd.h>
            #include <linux/dma-heap.h>
            #include <linux/dma-buf.h>
            #include <linux/udmabuf.h>
            #include <linux/fcntl.h>
            #include <linux/falloc.h>
            #include <sys/mman.h>
            #include <sys/socket.h>
            #include <sys/un.h>
            #include <sys/uio.h>
            #include <poll.h>
            #include <unistd.h>
            #include <errno.h>
            #include <stddef.h>
            #include <stdint.h>
            #include <stdio.h>

            int main(void)
            {

            """);
        foreach (AbiEntry entry in entries)
        {
            bool isMacroName = entry.C.All(ch => ch == '_' || char.IsAsciiLetterOrDigit(ch));
            if (isMacroName)
            {
                c.AppendLine($"#ifdef {entry.C}");
            }

            c.AppendLine($"    printf(\"%s=%llu\\n\", \"{entry.C}\", (unsigned long long)({entry.C}));");
            if (isMacroName)
            {
                // Errno values are macros too, so every plain name is either printed or reported undefined.
                c.AppendLine("#else");
                c.AppendLine($"    printf(\"%s=undefined\\n\", \"{entry.C}\");");
                c.AppendLine("#endif");
            }
        }

        c.AppendLine("    return 0;");
        c.AppendLine("}");
        return c.ToString();
    }

    private Dictionary<string, string> CompileAndRun(string program)
    {
        DirectoryInfo dir = Directory.CreateTempSubdirectory("dmasg-abi-");
        try
        {
            string source = Path.Combine(dir.FullName, "abi.c");
            string binary = Path.Combine(dir.FullName, "abi");
            File.WriteAllText(source, program);

            (int gccExit, string gccOut, string gccErr) = Run(Gcc.Find()!, "-std=gnu11", "-Wall", "-o", binary, source);
            if (gccErr.Length > 0)
            {
                output.WriteLine("gcc: " + gccErr);
            }

            Assert.True(gccExit == 0, $"gcc failed ({gccExit}):\n{gccOut}{gccErr}\n--- {source} ---\n{program}");

            (int exit, string stdout, string stderr) = Run(binary);
            Assert.True(exit == 0, $"the ABI probe exited with {exit}: {stderr}");

            var values = new Dictionary<string, string>();
            foreach (string line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                output.WriteLine(line);
                int eq = line.LastIndexOf('=');
                Assert.True(eq > 0, $"unparsable probe line: {line}");
                values[line[..eq]] = line[(eq + 1)..];
            }

            return values;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static (int Exit, string Stdout, string Stderr) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish in 60 s");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
