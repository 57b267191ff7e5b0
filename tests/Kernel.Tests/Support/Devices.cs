using DmaSg.Interop;
using DmaSg.Interop.Linux;

namespace DmaSg.Kernel.Tests.Support;

/// <summary>
/// Device gates. Without the device a test is skipped with the reason printed; with REQUIRE_DMABUF=1
/// (set in the guest) a missing device fails the test instead, so the guest run proves every test ran.
/// </summary>
internal static class Devices
{
    public const string SystemHeap = "/dev/dma_heap/system";

    public static bool Required => Environment.GetEnvironmentVariable("REQUIRE_DMABUF") == "1";

    public static void RequireDmaHeap() => Require(SystemHeap, OpenFlags.ReadOnly, "CONFIG_DMABUF_HEAPS and CONFIG_DMABUF_HEAPS_SYSTEM");

    public static void RequireUdmabuf() => Require(Udmabuf.DevicePath, OpenFlags.ReadWrite, "CONFIG_UDMABUF");

    /// <summary>Both devices, for tests that compare them.</summary>
    public static void RequireAll()
    {
        RequireDmaHeap();
        RequireUdmabuf();
    }

    public static bool Has(string path, OpenFlags flags) => Why(path, flags, string.Empty) is null;

    private static void Require(string path, OpenFlags flags, string config)
    {
        string? reason = Why(path, flags, config);
        if (reason is null)
        {
            return;
        }

        if (Required)
        {
            Assert.Fail($"REQUIRE_DMABUF=1 but {reason}");
        }

        // The skip reason shows in the xUnit runner's own output; `dotnet test` (VSTest) hides it at normal
        // verbosity, so it also goes out as a diagnostic message, which xunit.runner.json turns on.
        TestContext.Current.SendDiagnosticMessage($"skipped {TestContext.Current.Test?.TestDisplayName}: {reason}");
        Assert.Skip(reason);
    }

    private static string? Why(string path, OpenFlags flags, string config)
    {
        try
        {
            using SafeFd fd = Syscall.Open(path, flags | OpenFlags.Cloexec);
            return null;
        }
        catch (ErrnoException e) when (e.Errno is Errno.ENOENT or Errno.ENODEV)
        {
            return $"{path} is missing: this kernel lacks {config} ({e.Message})";
        }
        catch (ErrnoException e)
        {
            return $"{path} cannot be opened: {e.Message}";
        }
    }
}
