using Akka.Actor;
using Akka.Event;
using DmaSg.Actors.Protocol;

namespace DmaSg.Actors.Allocator;

// Pages a udmabuf was made of: detached from the arena memfd before they are free again.
public sealed partial class AllocatorActor
{
    private void OnPagesShared(PagesShared m)
    {
        // PagesShared comes before the buffer's PagesReturned and Terminated (same sender), so the mark is never late.
        if (_buffers.TryGetValue(m.Buffer, out BufferRecord? record))
        {
            record.SharedWithKernel = true;
        }
    }

    /// <summary>
    /// Punches shared pages out of the arena memfd, so a udmabuf still held elsewhere keeps the old pages and the
    /// arena's next user gets fresh zero pages. Returns false when that failed: the pages are then kept out of the
    /// free lists (lost to the arena) rather than handed to a buffer that another process may still be reading.
    /// </summary>
    private bool DetachIfShared(BufferRecord record, int[] pages)
    {
        if (!record.SharedWithKernel)
        {
            return true;
        }

        try
        {
            Runtime.Exporter!.DetachPages(pages);
            Dprintk(2, "buffer#{0}: {1} pages detached from the udmabufs made of them", record.Id, pages.Length);
            return true;
        }
        catch (Exception e)
        {
            Log.Error(e, "buffer#{0}: could not detach {1} pages shared with a udmabuf; they stay out of the arena", record.Id, pages.Length);
            return false;
        }
    }
}
