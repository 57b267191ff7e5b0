using System.Collections;
using System.Security.Cryptography;
using System.Threading.Channels;
using Akka.Actor;
using DmaSg.Actors.Cluster;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Protocol;
using DmaSg.Memory.Dma;
using DmaSg.Node.Hosting;
using DmaSg.Node.Verbs;

namespace DmaSg.Node.Demo;

/// <summary>
/// <c>demo</c>: a camera -> encoder pipeline through the actors on a real cluster. Alone (no seed given) it
/// starts a one-node cluster of its own; with <c>--seed</c> it joins a running cluster as a client and the frames
/// land on whichever nodes have the most free memory. Per frame: allocate (placement), the camera DMA-writes the
/// frame and finish syncs it, export; the encoder imports the dmabuf on the frame's node, pins, DMA-reads it back
/// (over the wire, chunked), checks its hash, unpins, and every ref is dropped. At the end "pages leaked" is the
/// difference of every node's allocated pages before and after, measured.
/// </summary>
public static class ClusterDemo
{
    public const string Summary =
        "camera -> encoder pipeline through the actors on a cluster: alone, or --seed HOST:PORT to use running nodes (--frames N)";

    private const int Width = 1280;
    private const int Height = 720;
    private const int FrameSize = Width * Height * 3 / 2; // NV12

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, IDictionary environment)
    {
        NodeOptions options = NodeOptions.Parse(args, environment, "frames");
        int frames = options.PositiveFlag("frames", 12);
        NodeMode mode = options.HasSeeds ? NodeMode.Client : NodeMode.Alone;
        await using NodeHost node = await NodeHost.StartAsync(NodeConfig.Build(options, mode), mode);
        if (!await node.WaitUpAsync(TimeSpan.FromSeconds(30)))
        {
            await stdout.WriteLineAsync($"dmasg demo: could not join the cluster at {string.Join(", ", options.Seeds)}");
            return 1;
        }

        IReadOnlyList<NodeMemoryStats> nodes = await StatsVerb.AwaitEveryServingNode(node, TimeSpan.FromSeconds(15));
        if (nodes.Count == 0)
        {
            await stdout.WriteLineAsync("dmasg demo: no node serves an arena");
            return 1;
        }

        await stdout.WriteLineAsync($"dmasg demo: {frames} frames of {Width}x{Height} NV12 ({FrameSize} bytes), camera -> encoder, " +
            $"on {nodes.Count} node(s): {string.Join(", ", nodes.Select(n => n.Node))}");
        await using DmaSgClusterClient client = DmaSgCluster.Get(node.System).CreateClient();
        Dictionary<string, long> before = await AllocatedPages(client, nodes);

        var pipe = Channel.CreateBounded<Frame>(new BoundedChannelOptions(3) { SingleReader = true, SingleWriter = true });
        Task camera = Camera(client, frames, pipe.Writer);
        int verified = await Encoder(client, frames, pipe.Reader, stdout);
        await camera;

        // Releases travel by message (dmabuf -> buffer -> allocator): measure once every node has settled.
        long leaked = await Leaked(client, nodes, before);
        await stdout.WriteLineAsync($"frames verified: {verified}/{frames}");
        await stdout.WriteLineAsync($"pages leaked: {leaked}");
        return verified == frames && leaked == 0 ? 0 : 1;
    }

    private static async Task Camera(DmaSgClusterClient client, int frames, ChannelWriter<Frame> output)
    {
        try
        {
            for (int i = 0; i < frames; i++)
            {
                byte[] image = Synthesize(i);
                BufferHandle buffer = await client.AllocateAsync(FrameSize, DmaDirection.FromDevice, "camera", $"frame-{i}");

                // The sensor writes through its DMA mapping; finish makes the bytes visible to the CPU (bounce copy).
                await buffer.DmaWriteAsync(0, image);
                await buffer.FinishAsync();
                DmaBufHandle dmabuf = await buffer.ExportAsync();

                // The dmabuf keeps the buffer alive: the camera lets go of its own ref, as a V4L2 driver requeues.
                await buffer.DisposeAsync();
                await output.WriteAsync(new Frame(i, dmabuf, SHA256.HashData(image), Node(dmabuf.DmaBuf)));
            }

            output.Complete();
        }
        catch (Exception e)
        {
            output.Complete(e);
            throw;
        }
    }

    private static async Task<int> Encoder(DmaSgClusterClient client, int frames, ChannelReader<Frame> input, TextWriter stdout)
    {
        int verified = 0;
        await foreach (Frame frame in input.ReadAllAsync())
        {
            // The encoder imports the frame on its node (a device maps its own host's memory) and reads it by DMA.
            await using (frame.DmaBuf)
            {
                ImportHandle import = await client.ImportAsync(frame.DmaBuf, DmaDirection.ToDevice, "encoder");
                SgTableInfo table = await import.PinAsync();
                byte[] read = await import.DmaReadAsync(0, FrameSize);
                await import.UnpinAsync();
                await import.DisposeAsync();
                bool ok = SHA256.HashData(read).AsSpan().SequenceEqual(frame.Hash);
                verified += ok ? 1 : 0;
                await stdout.WriteLineAsync($"frame {frame.Index + 1,3}/{frames} on {frame.Node}: {table.OrigNents} sg entries, " +
                    $"encoder saw {table.Nents} DMA segment(s), {(ok ? "hash ok" : "HASH MISMATCH")}");
            }
        }

        return verified;
    }

    private static async Task<Dictionary<string, long>> AllocatedPages(DmaSgClusterClient client, IReadOnlyList<NodeMemoryStats> nodes)
    {
        var pages = new Dictionary<string, long>();
        foreach (NodeMemoryStats n in nodes)
        {
            pages[n.Node] = (await client.On(n).GetStatsAsync()).AllocatedPages;
        }

        return pages;
    }

    private static async Task<long> Leaked(DmaSgClusterClient client, IReadOnlyList<NodeMemoryStats> nodes, Dictionary<string, long> before)
    {
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            Dictionary<string, long> after = await AllocatedPages(client, nodes);
            long leaked = after.Sum(kv => kv.Value - before[kv.Key]);
            if (leaked == 0 || DateTime.UtcNow > deadline)
            {
                return leaked;
            }

            await Task.Delay(50);
        }
    }

    private static string Node(IActorRef actor) =>
        actor.Path.Address.HasGlobalScope ? $"{actor.Path.Address.Host}:{actor.Path.Address.Port}" : "this node";

    /// <summary>A test pattern: luma gradient moving with the frame number, flat chroma.</summary>
    private static byte[] Synthesize(int index)
    {
        var image = new byte[FrameSize];
        for (int y = 0; y < Height; y++)
        {
            Span<byte> row = image.AsSpan(y * Width, Width);
            for (int x = 0; x < Width; x++)
            {
                row[x] = (byte)(x + y + (index * 8));
            }
        }

        image.AsSpan(Width * Height).Fill((byte)(128 + index));
        return image;
    }

    private sealed record Frame(int Index, DmaBufHandle DmaBuf, byte[] Hash, string Node);
}
