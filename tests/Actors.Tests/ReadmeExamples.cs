using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Hosting;
using DmaSg.Actors.Facade;
using DmaSg.Actors.Hosting;
using DmaSg.Memory.Dma;
using DmaSg.Actors.Protocol;
using DmaSg.Memory.Backends;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog;
using Serilog.Extensions.Logging;

namespace DmaSg.Actors.Tests;

/// <summary>
/// The README's code, compiled and run. Each example sits between "README:begin NAME" and "README:end NAME"
/// markers so it can be pasted as it is.
/// </summary>
public partial class ReadmeExamples
{
    [Fact]
    public async Task Embed_in_a_plain_actor_system()
    {
        // README:begin embed-plain
        // No DmaSg configuration is needed: reference.conf is embedded and injected as a fallback.
        using var system = ActorSystem.Create("app", "dmasg.arena-size = 64 MiB");
        var dmasg = BufferManager.Get(system);

        await using (var buf = await dmasg.AllocateAsync(1 << 20, DmaDirection.ToDevice))
        {
            await buf.WriteAsync(0, new byte[] { 1, 2, 3 });
            await buf.PrepareAsync();                       // sync for the device
        }                                                   // dispose = put: the pages go home

        var stats = await dmasg.GetStatsAsync();
        Console.WriteLine($"free pages: {stats.FreePages} of {stats.TotalPages}");
        // README:end embed-plain

        Assert.Equal(stats.TotalPages, stats.FreePages);
        await system.Terminate();
    }

    [Fact]
    public async Task Embed_with_akka_hosting_and_serilog()
    {
        // README:begin embed-hosting
        Log.Logger = new LoggerConfiguration().MinimumLevel.Warning().WriteTo.Console().CreateLogger();
        using var loggerFactory = new SerilogLoggerFactory(Log.Logger);

        using var host = Host.CreateDefaultBuilder()
            .ConfigureServices(services => services.AddAkka("app", builder =>
            {
                builder.ConfigureLoggers(logging =>
                {
                    logging.ClearLoggers();
                    logging.AddLoggerFactory(loggerFactory);   // Akka (and DmaSg) logs -> Serilog
                });
                builder.WithDmaSg(new DmaSgOptions
                {
                    ArenaSize = 64 << 20,
                    DeviceSpecs = { new DeviceSpec("camera", DeviceModel.Bounce), new DeviceSpec("encoder", DeviceModel.Iommu) },
                });
            }))
            .Build();
        await host.StartAsync();

        // The allocator is in the ActorRegistry; the facade is one call away.
        IActorRef allocator = await host.Services.GetRequiredService<IRequiredActor<DmaSgAllocator>>().GetAsync();
        var dmasg = BufferManager.Get(host.Services.GetRequiredService<ActorSystem>());
        // README:end embed-hosting

        Assert.Equal(dmasg.Allocator, allocator);
        Assert.Equal(["camera", "default", "encoder"], (await dmasg.GetStatsAsync()).Devices.Select(d => d.Name));
        await host.StopAsync();
        await Log.CloseAndFlushAsync();
    }

    [Fact]
    public async Task Camera_to_encoder_with_the_facade()
    {
        using var system = ActorSystem.Create("pipeline", """
            dmasg.arena-size = 64 MiB
            dmasg.devices.camera.model = bounce
            dmasg.devices.encoder.model = iommu
            """);
        byte[] frame = new byte[640 * 480 * 2];
        Random.Shared.NextBytes(frame);

        // README:begin facade
        var dmasg = BufferManager.Get(system);

        // The camera's buffer: allocated for the camera, filled by its DMA, synced for the CPU.
        await using var buf = await dmasg.AllocateAsync(frame.Length, DmaDirection.FromDevice, "camera");
        await buf.PrepareAsync();
        await buf.DmaWriteAsync(0, frame);                  // the camera writes through its mapping
        await buf.FinishAsync();                            // swiotlb: copy the bounce buffer back

        // Shared with the encoder as a dmabuf: attach (import), pin (map), read, unpin, detach.
        await using var dmabuf = await buf.ExportAsync();
        await using var encoder = await dmasg.ImportAsync(dmabuf, frame.Length, DmaDirection.ToDevice, "encoder");
        SgTableInfo mapped = await encoder.PinAsync();      // one IOVA segment: the IOMMU merged them
        byte[] seen = await encoder.DmaReadAsync(0, frame.Length);
        await encoder.UnpinAsync();
        // README:end facade

        Assert.Equal(frame, seen);
        Assert.Equal(1, mapped.Nents);
        await encoder.DisposeAsync();
        await dmabuf.DisposeAsync();
        await buf.DisposeAsync();
        // The dmabuf gives its buffer ref back by message after its own last ref went: wait for it, as AwaitAssert does.
        await AllPagesFreeAsync(dmasg);
        await system.Terminate();
    }

    [Fact]
    public async Task A_camera_pool_and_a_client_quota()
    {
        using var system = ActorSystem.Create("pooled", """
            dmasg.arena-size = 64 MiB
            dmasg.devices.camera.model = bounce
            """);
        byte[] frame = new byte[640 * 480 * 2];

        // README:begin pools
        var dmasg = BufferManager.Get(system);

        // A camera's pool: 4 frames made up front, at most 8. A frame given back is lent again as it is:
        // no second zeroing per frame (set dmasg.pools.zero-on-recycle = on to have it cleared).
        await using var pool = await dmasg.CreatePoolAsync(frame.Length, DmaDirection.FromDevice, "camera", minBuffers: 4, maxBuffers: 8);
        for (int i = 0; i < 3; i++)
        {
            await using var lease = await pool.AcquireAsync();  // waits while all 8 are lent (dmasg.pools.when-empty)
            await lease.PrepareAsync();
            await lease.DmaWriteAsync(0, frame);
            await lease.FinishAsync();
        }                                                       // dispose = back to the pool, not freed

        // Quotas: this client may hold 1024 pages (4 MiB); one page more answers QuotaExceeded.
        await using var client = dmasg.CreateClient();
        await client.SetQuotaAsync(1024);
        HolderQuota quota = await client.GetQuotaAsync();
        // README:end pools

        PoolInfo info = await pool.InspectAsync();
        Assert.Equal((4, 4L, 0), (info.Total, info.Allocations, info.Outstanding));
        Assert.Equal((0L, 1024L), (quota.UsedPages, quota.LimitPages));
        await using (await client.AllocateAsync(4 << 20))
        {
            var e = await Assert.ThrowsAsync<DmaSg.Memory.DmaSgException>(() => client.AllocateAsync(1));
            Assert.Equal(DmaSg.Memory.DmaSgError.QuotaExceeded, e.Error);
        }

        await pool.DisposeAsync();
        await system.Terminate();
    }

    [Fact]
    public async Task Export_a_buffer_as_an_fd_to_another_process()
    {
        using var system = ActorSystem.Create("exporting", "dmasg.arena-size = 16 MiB");
        byte[] frame = Enumerable.Range(0, 3 * 4096).Select(i => (byte)(i * 7)).ToArray();
        (FdChannel channel, FdChannel peer) = FdChannel.CreatePair();
        using var peerEnd = peer;
        using var ourEnd = channel;

        // The other process, played by a task: it receives the fd, maps it, checks the frame and writes its answer.
        Task peerDone = Task.Run(() =>
        {
            using ExportedBuffer received = peer.ReceiveBuffer(TimeSpan.FromSeconds(10));
            using DmaSg.Interop.SafeMapping map = received.Map();
            received.Finish(DmaDirection.Bidirectional);
            Assert.Equal(frame, map.AsSpan()[..frame.Length].ToArray());
            map.AsSpan()[0] = 42;
            received.Prepare(DmaDirection.Bidirectional);
        });

        // README:begin export-fd
        var dmasg = BufferManager.Get(system);
        await using var buf = await dmasg.AllocateAsync(frame.Length, DmaDirection.Bidirectional);
        await buf.WriteAsync(0, frame);

        // The buffer as an fd for another process or a driver: a udmabuf of its own pages, a dma-heap copy or a
        // sealed memfd copy, in the order of dmasg.export.providers. The handle holds the fd and a buffer ref.
        await using var fd = await buf.ExportFdAsync();
        await fd.PrepareAsync();          // a copy takes the buffer's bytes now; a dmabuf gets SYNC END
        channel.SendBuffer(fd.Buffer);    // SCM_RIGHTS over a Unix socket (FdChannel); the peer maps it
        await peerDone;                   // ... and writes its answer into it
        await fd.FinishAsync();           // a copy brings the peer's bytes home; a dmabuf gets SYNC START
        byte[] answer = await buf.ReadAsync(0, 1);
        // README:end export-fd

        Assert.Equal(42, answer[0]);
        await fd.DisposeAsync();
        await buf.DisposeAsync();
        await AllPagesFreeAsync(dmasg);
        await system.Terminate();
    }

    [Fact]
    public void Every_example_has_matching_markers()
    {
        string source = File.ReadAllText(ThisFile());
        string[] begins = [.. Begin().Matches(source).Select(m => m.Groups[1].Value)];
        string[] ends = [.. End().Matches(source).Select(m => m.Groups[1].Value)];

        Assert.Equal(["embed-plain", "embed-hosting", "facade", "pools", "export-fd"], begins);
        Assert.Equal(begins, ends);
    }

    [Fact]
    public void The_README_holds_every_example_word_for_word()
    {
        string source = File.ReadAllText(ThisFile());
        string readme = File.ReadAllText(Path.Combine(Path.GetDirectoryName(ThisFile())!, "..", "..", "README.md"));
        foreach (Match begin in Begin().Matches(source))
        {
            string name = begin.Groups[1].Value;
            int start = begin.Index + begin.Length;
            int end = End().Matches(source).First(m => m.Groups[1].Value == name).Index;
            Assert.Contains(Normalize(source[start..end]), Normalize(readme));
        }
    }

    // Indentation differs between the test method and the README's code block; words and order must not.
    private static string Normalize(string code) =>
        string.Join('\n', code.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));

    private static async Task AllPagesFreeAsync(BufferManager dmasg)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var stats = await dmasg.GetStatsAsync();
            if (stats.FreePages == stats.TotalPages || DateTime.UtcNow > deadline)
            {
                Assert.Equal(stats.TotalPages, stats.FreePages);
                return;
            }

            await Task.Delay(20);
        }
    }

    private static string ThisFile([CallerFilePath] string path = "") => path;

    [GeneratedRegex(@"(?m)^\s*// README:begin ([\w-]+)\s*$")]
    private static partial Regex Begin();

    [GeneratedRegex(@"(?m)^\s*// README:end ([\w-]+)\s*$")]
    private static partial Regex End();
}
