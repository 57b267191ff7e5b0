using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DmaSg.Benchmarks.Harness;

/// <summary>The table and the JSON file.</summary>
public static class Report
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void WriteTable(TextWriter output, IReadOnlyList<BenchRow> rows)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(rows);
        string[] header = ["Work", "Case", "Design", "Metric", "Value", "Ratios", "p50 / p99", "Target"];
        var cells = rows.Select(r => new[]
        {
            r.Workload,
            r.Case,
            r.Design,
            r.Metric,
            FormatValue(r.Value, r.Unit),
            string.Join(", ", r.Ratios.Select(x => $"{FormatRatio(x.Value)} {x.Against}")),
            Latency(r),
            r.Target is null ? "" : $"{r.Target} {(r.TargetMet == true ? "ok" : "MISS")}",
        }).ToList();
        int[] widths = header.Select((h, i) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(c => c[i].Length))).ToArray();
        output.WriteLine(Line(header, widths));
        output.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        string? last = null;
        foreach (var (c, r) in cells.Zip(rows))
        {
            if (last is not null && last != r.Workload)
            {
                output.WriteLine();
            }

            last = r.Workload;
            output.WriteLine(Line(c, widths));
        }
    }

    public static async Task WriteJsonAsync(string path, object report)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }

        await using var stream = File.Create(path);
        await JsonSerializer.SerializeAsync(stream, report, Json).ConfigureAwait(false);
    }

    public static string FormatValue(double value, string unit)
    {
        if (double.IsNaN(value))
        {
            return "n/a";
        }

        return unit switch
        {
            "ops/s" or "frames/s" => $"{Si(value)} {unit}",
            _ => $"{Sig(value)} {unit}",
        };
    }

    public static string FormatRatio(double r) => double.IsNaN(r) ? "n/a" : r >= 100 ? $"{r:F0}x" : r >= 10 ? $"{r:F1}x" : $"{r:F2}x";

    /// <summary>Three significant digits, no exponent.</summary>
    public static string Sig(double v)
    {
        double a = Math.Abs(v);
        string f = a >= 100 ? "F0" : a >= 10 ? "F1" : a >= 1 ? "F2" : "F3";
        return v.ToString(f, CultureInfo.InvariantCulture);
    }

    public static string Si(double v) =>
        v >= 1e9 ? $"{Sig(v / 1e9)}G" : v >= 1e6 ? $"{Sig(v / 1e6)}M" : v >= 1e3 ? $"{Sig(v / 1e3)}k" : Sig(v);

    private static string Latency(BenchRow r)
    {
        if (r.Extra is null || !r.Extra.TryGetValue("p50Micros", out double p50) || !r.Extra.TryGetValue("p99Micros", out double p99))
        {
            return "";
        }

        return $"{Micros(p50)} / {Micros(p99)}";
    }

    private static string Micros(double us) => us >= 1000 ? $"{Sig(us / 1000)} ms" : $"{Sig(us)} us";

    private static string Line(string[] cells, int[] widths)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < cells.Length; i++)
        {
            sb.Append(i == 4 ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]));
            if (i < cells.Length - 1)
            {
                sb.Append("  ");
            }
        }

        return sb.ToString().TrimEnd();
    }
}
