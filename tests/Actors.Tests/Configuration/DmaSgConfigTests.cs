using System.Text.RegularExpressions;
using Akka.Configuration;
using DmaSg.Actors.Configuration;
using DmaSg.Memory;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Tests.Configuration;

public partial class DmaSgConfigTests
{
    [Fact]
    public void The_reference_defaults_are_the_settings_defaults()
    {
        DmaSgSettings fromHocon = DmaSgConfig.ToSettings(Config.Empty);
        var fromCode = new DmaSgSettings();

        Assert.Equal(fromCode.ArenaSize, fromHocon.ArenaSize);
        Assert.Equal(fromCode.MaxOrder, fromHocon.MaxOrder);
        Assert.Equal(fromCode.Backend, fromHocon.Backend);
        Assert.Equal(fromCode.Zero, fromHocon.Zero);
        Assert.Equal(fromCode.ArenaName, fromHocon.ArenaName);
        Assert.Equal(fromCode.MaxSegment, fromHocon.MaxSegment);
        Assert.Equal(fromCode.Checker, fromHocon.Checker);
        Assert.Equal(fromCode.CheckerMode, fromHocon.CheckerMode);
        Assert.Equal(fromCode.DebugLevel, fromHocon.DebugLevel);
        Assert.Equal(fromCode.AskTimeout, fromHocon.AskTimeout);
        Assert.Equal(fromCode.MaxChunk, fromHocon.MaxChunk);
        Assert.Equal(fromCode.DeviceSpecs, fromHocon.DeviceSpecs);
    }

    [Fact]
    public void Every_key_is_read_from_hocon()
    {
        DmaSgSettings s = DmaSgConfig.ToSettings(ConfigurationFactory.ParseString("""
            dmasg {
              arena-size = 32 MiB
              max-order = 7
              zero-strategy = punch-hole
              arena-name = "test-arena"
              max-segment = 64 KiB
              checker = off
              checker-mode = record
              debug-level = 2
              ask-timeout = 3s
              max-chunk = 1 MiB
              devices.cam { model = bounce, pool-size = 2 MiB, address-limit = 4 GiB }
              devices.enc { model = iommu, max-segment = 128 KiB }
            }
            """));

        Assert.Equal(32L << 20, s.ArenaSize);
        Assert.Equal(7, s.MaxOrder);
        Assert.Equal(ZeroStrategy.PunchHole, s.Zero);
        Assert.Equal("test-arena", s.ArenaName);
        Assert.Equal(64L << 10, s.MaxSegment);
        Assert.False(s.Checker);
        Assert.Equal(DmaApiCheckerMode.Record, s.CheckerMode);
        Assert.Equal(2, s.DebugLevel);
        Assert.Equal(TimeSpan.FromSeconds(3), s.AskTimeout);
        Assert.Equal(1 << 20, s.MaxChunk);

        // Objects merge: the default device stays next to the added ones.
        Assert.Equal(
            [
                new DeviceSpec("cam", DeviceModel.Bounce, null, 2L << 20, 4L << 30),
                new DeviceSpec("default", DeviceModel.Coherent),
                new DeviceSpec("enc", DeviceModel.Iommu, 128L << 10),
            ],
            s.DeviceSpecs);
    }

    [Theory]
    [InlineData("dmasg.zero-strategy = bzero")]
    [InlineData("dmasg.checker-mode = panic")]
    [InlineData("dmasg.backend = ion")]
    [InlineData("dmasg.max-order = 30")]
    [InlineData("dmasg.arena-size = 12")]
    [InlineData("dmasg.devices.x.model = gpu")]
    public void Bad_values_are_invalid_arguments(string hocon)
    {
        var e = Assert.Throws<DmaSgException>(() => DmaSgConfig.ToSettings(ConfigurationFactory.ParseString(hocon)));
        Assert.Equal(DmaSgError.InvalidArgument, e.Error);
    }

    [Fact]
    public void Every_setting_in_reference_conf_is_documented()
    {
        string[] lines = ReferenceText().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        var undocumented = new List<string>();
        for (int i = 0; i < lines.Length; i++)
        {
            Match m = Setting().Match(lines[i]);
            if (!m.Success || Inside(lines, i, "devices"))
            {
                continue;
            }

            // A setting's comment block ends on the line right above it.
            if (i == 0 || !lines[i - 1].TrimStart().StartsWith('#'))
            {
                undocumented.Add(m.Groups[1].Value);
            }
        }

        Assert.Empty(undocumented);
        foreach (string key in new[] { "arena-size", "max-order", "backend", "zero-strategy", "max-segment", "devices", "debug-level", "checker", "ask-timeout" })
        {
            Assert.Matches($@"(?m)^\s+{key}\s*[={{]", ReferenceText());
        }
    }

    private static string ReferenceText()
    {
        using Stream s = typeof(DmaSgConfig).Assembly.GetManifestResourceStream("DmaSg.Actors.reference.conf")!;
        return new StreamReader(s).ReadToEnd();
    }

    // Lines inside the devices block describe a device, documented once above the block.
    private static bool Inside(string[] lines, int index, string block)
    {
        int depth = 0;
        for (int i = index - 1; i >= 0; i--)
        {
            depth += lines[i].Count(c => c == '}') - lines[i].Count(c => c == '{');
            if (depth < 0)
            {
                if (lines[i].TrimStart().StartsWith(block, StringComparison.Ordinal))
                {
                    return true;
                }

                depth = 0;
            }
        }

        return false;
    }

    [GeneratedRegex(@"^\s+([a-z][a-z-]*)\s*(=|\{)")]
    private static partial Regex Setting();
}
