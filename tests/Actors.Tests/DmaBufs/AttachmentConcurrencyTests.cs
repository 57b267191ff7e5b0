using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Actors.Tests.Support;
using DmaSg.Memory;
using DmaSg.Memory.Dma;
using Xunit.Abstractions;

namespace DmaSg.Actors.Tests.DmaBufs;

/// <summary>Many clients on one dmabuf: the mailboxes serialize, every reply is typed, nothing leaks.</summary>
public class AttachmentConcurrencyTests(ITestOutputHelper output) : DmaSgTestKit(output)
{
    private static readonly DmaDirection[] Directions = [DmaDirection.ToDevice, DmaDirection.FromDevice, DmaDirection.Bidirectional];

    [Theory]
    [MemberData(nameof(Devices))]
    public async Task Sixty_four_clients_hammer_map_unmap_detach_on_one_dmabuf(string device)
    {
        IActorRef owner = NewHolder();
        (BufferCreated b, Exported e) = await AllocExported(owner, 4L * PageSize, device);
        var replies = new System.Collections.Concurrent.ConcurrentBag<IDmaSgReply>();
        var shared = new System.Collections.Concurrent.ConcurrentQueue<IActorRef>();

        async Task<IDmaSgReply> Send(IActorRef target, IDmaSgRequest request)
        {
            IDmaSgReply reply = await DmaSgAsk.Request(Sys, target, request, Timeout);
            replies.Add(reply);
            return reply;
        }

        async Task Client(int n)
        {
            var rng = new Random(n);
            IActorRef holder = NewHolder();
            for (int round = 0; round < 6; round++)
            {
                if (await Send(e.DmaBuf, new Attach(device, 0, holder)) is not AttachmentCreated a)
                {
                    continue;
                }

                shared.Enqueue(a.Attachment);
                for (int i = 0; i < 4; i++)
                {
                    DmaDirection dir = Directions[rng.Next(Directions.Length)];
                    await Send(a.Attachment, new MapAttachment(dir));
                    await Send(a.Attachment, new UnmapAttachment(dir));

                    // Someone else's attachment too: it may be detached already (UseAfterRelease).
                    if (shared.TryPeek(out IActorRef? other))
                    {
                        await Send(other, new MapAttachment(dir));
                    }
                }

                await Send(a.Attachment, Detach.Instance);

                // After detach the attachment is released.
                IDmaSgReply late = await Send(a.Attachment, new MapAttachment(DmaDirection.ToDevice));
                Assert.Equal(DmaSgError.UseAfterRelease, Assert.IsType<DmaSgFailure>(late).Error);
                shared.TryDequeue(out _);
            }

            if (n % 2 == 0)
            {
                // Half the clients die with an attachment mapped.
                if (await Send(e.DmaBuf, new Attach(device, 0, holder)) is AttachmentCreated last)
                {
                    await Send(last.Attachment, new MapAttachment(DmaDirection.Bidirectional));
                }

                await KillHolder(holder);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 64).Select(n => Task.Run(() => Client(n))));

        Assert.NotEmpty(replies);
        Assert.All(replies, r => Assert.True(
            r is AttachmentCreated or AttachmentMapped or Done ||
            r is DmaSgFailure { Error: DmaSgError.UseAfterRelease or DmaSgError.Io or DmaSgError.OutOfMemory },
            r.ToString()));
        Assert.Contains(replies, r => r is AttachmentMapped { Cached: true });

        await AwaitAssertAsync(async () =>
        {
            DmaBufInfo info = await Ask<DmaBufInfo>(e.DmaBuf, Inspect.Instance);
            Assert.Empty(info.Attachments);
            Assert.Equal(1, info.RefCount);
        });
        await Ask<RefDropped>(e.DmaBuf, new Put(owner));
        await Ask<RefDropped>(b.Buffer, new Put(owner));
        await AssertNothingLeaked();
    }
}
