using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Protocol;
using DmaSg.Memory.Dma;

namespace DmaSg.Node.Demo;

/// <summary>
/// demo: a camera -> encoder pipeline through the actors. Per frame the camera's buffer is allocated for a
/// bounce (swiotlb) device, written by the camera's DMA, finished (bounce copy to the CPU), and exported; the
/// encoder imports the dmabuf on its IOMMU device, pins it, reads the frame by DMA, unpins and detaches; then
/// both refs are put. The final "pages leaked" figure is the allocator's count of pages still handed out.
/// <c>--leak N</c> keeps N frames' refs to show the count catching them, then stops their holder and shows
/// DeathWatch giving the pages back.
/// </summary>
public static class PipelineDemo
{
    private const string Usage = "usage: demo [--frames N] [--width W] [--height H] [--leak N]";

    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (!TryParse(args, out Options options, out string? error))
        {
            await Console.Error.WriteLineAsync(error is null ? Usage : $"demo: {error}\n{Usage}").ConfigureAwait(false);
            return 2;
        }

        using ActorSystem system = ActorSystem.Create("dmasg-demo", """
            akka.loglevel = WARNING
            akka.stdout-loglevel = WARNING
            akka.log-dead-letters = off
            akka.log-dead-letters-during-shutdown = off
            dmasg {
              arena-size = 64 MiB
              devices {
                camera { model = bounce }
                encoder { model = iommu }
              }
            }
            """);
        try
        {
            return await RunPipeline(BufferManager.Get(system), options).ConfigureAwait(false);
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
    }

    private static async Task<int> RunPipeline(BufferManager dmasg, Options o)
    {
        int frameSize = o.Width * o.Height * 2;
        DmaSgClient camera = dmasg.CreateClient();
        DmaSgClient encoder = dmasg.CreateClient();
        var kept = new List<IAsyncDisposable>();
        int mismatches = 0;
        var clock = Stopwatch.StartNew();
        bool interactive = !Console.IsOutputRedirected;
        Console.WriteLine($"camera -> encoder: {o.Frames} frames of {o.Width}x{o.Height} YUYV ({frameSize} bytes), camera on a bounce device, encoder behind an IOMMU");

        for (int i = 0; i < o.Frames; i++)
        {
            byte[] frame = Frame(frameSize, i);
            BufferHandle buf = await camera.AllocateAsync(frameSize, DmaDirection.FromDevice, "camera").ConfigureAwait(false);
            await buf.PrepareAsync().ConfigureAwait(false);
            await buf.DmaWriteAsync(0, frame).ConfigureAwait(false);
            await buf.FinishAsync().ConfigureAwait(false);
            DmaBufHandle dmabuf = await buf.ExportAsync().ConfigureAwait(false);

            await using (ImportHandle enc = await encoder.ImportAsync(dmabuf, frameSize, DmaDirection.ToDevice, "encoder").ConfigureAwait(false))
            {
                await enc.PinAsync().ConfigureAwait(false);
                byte[] seen = await enc.DmaReadAsync(0, frameSize).ConfigureAwait(false);
                if (!seen.AsSpan().SequenceEqual(frame))
                {
                    mismatches++;
                }

                await enc.UnpinAsync().ConfigureAwait(false);
            }

            if (i < o.Leak)
            {
                // Deliberately never put: the camera client still holds these refs.
                kept.Add(dmabuf);
                kept.Add(buf);
            }
            else
            {
                await dmabuf.DisposeAsync().ConfigureAwait(false);
                await buf.DisposeAsync().ConfigureAwait(false);
            }

            if (interactive || i + 1 == o.Frames || (i + 1) % 10 == 0)
            {
                AllocatorStats s = await dmasg.GetStatsAsync().ConfigureAwait(false);
                double mib = (double)(i + 1) * frameSize / (1 << 20);
                string line = string.Create(CultureInfo.InvariantCulture,
                    $"frame {i + 1}/{o.Frames}  {mib / clock.Elapsed.TotalSeconds:F1} MiB/s  pages in use {s.AllocatedPages}  mismatches {mismatches}");
                Console.Write(interactive ? $"\r{line}   " : line + Environment.NewLine);
            }
        }

        if (interactive)
        {
            Console.WriteLine();
        }

        AllocatorStats settled = await Settle(dmasg, expectedBuffers: Math.Min(o.Leak, o.Frames)).ConfigureAwait(false);
        long leaked = settled.AllocatedPages;
        Console.WriteLine($"frames verified: {o.Frames - mismatches}/{o.Frames}");
        Console.WriteLine($"pages leaked: {leaked}");

        if (kept.Count > 0)
        {
            // The kernel's "fds close when the process dies": the camera's holder stops, DeathWatch puts its refs.
            await camera.DisposeAsync().ConfigureAwait(false);
            AllocatorStats after = await Settle(dmasg, expectedBuffers: 0).ConfigureAwait(false);
            Console.WriteLine($"after the camera client stopped: pages leaked: {after.AllocatedPages}");
        }

        await camera.DisposeAsync().ConfigureAwait(false);
        await encoder.DisposeAsync().ConfigureAwait(false);
        return leaked == 0 && mismatches == 0 ? 0 : 1;
    }

    /// <summary>
    /// Puts that free a buffer finish asynchronously (a dmabuf's ref goes when its actor has stopped), so the
    /// count is read once the live buffers are down to what is still held, within a bounded wait.
    /// </summary>
    private static async Task<AllocatorStats> Settle(BufferManager dmasg, int expectedBuffers)
    {
        var deadline = Stopwatch.StartNew();
        AllocatorStats s = await dmasg.GetStatsAsync().ConfigureAwait(false);
        while ((s.LiveBuffers > expectedBuffers || s.Actors.DmaBufs > expectedBuffers || s.Actors.Importers > 0) && deadline.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(10).ConfigureAwait(false);
            s = await dmasg.GetStatsAsync().ConfigureAwait(false);
        }

        return s;
    }

    private static byte[] Frame(int size, int index)
    {
        var frame = new byte[size];
        var rng = new Random(index);
        rng.NextBytes(frame);
        return frame;
    }

    private static bool TryParse(string[] args, out Options options, out string? error)
    {
        options = new Options();
        error = null;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg is "-h" or "--help")
            {
                return false;
            }

            if (i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int value))
            {
                error = $"{arg} needs a non-negative number";
                return false;
            }

            i++;
            switch (arg)
            {
                case "--frames" when value > 0:
                    options = options with { Frames = value };
                    break;
                case "--width" when value is > 0 and <= 8192:
                    options = options with { Width = value };
                    break;
                case "--height" when value is > 0 and <= 8192:
                    options = options with { Height = value };
                    break;
                case "--leak":
                    options = options with { Leak = value };
                    break;
                default:
                    error = $"unknown option or bad value: {arg} {value}";
                    return false;
            }
        }

        if ((long)options.Width * options.Height * 2 > 16L << 20)
        {
            error = "a frame must fit in 16 MiB";
            return false;
        }

        return true;
    }

    private sealed record Options
    {
        public int Frames { get; init; } = 60;

        public int Width { get; init; } = 640;

        public int Height { get; init; } = 480;

        public int Leak { get; init; }
    }
}
