using Akka.Actor;
using DmaSg.Actors.Protocol;

namespace DmaSg.Actors.Buffers;

// Recycling for a buffer pool: one mailbox turn decides whether the buffer can be lent again, and clears it.
public sealed partial class BufferActor
{
    private IDmaSgReply OnRecycle(RecycleBuffer m)
    {
        // Lent again only when the pool's ref is the last one: an export, an mmap or another holder's ref
        // means someone may still touch the bytes.
        // Nor when an fd of its own memory ever went out: a receiver may keep that fd after ours closed.
        bool reusable = !_aliasedByFd && _buf.NumUsers == 1 && m.Holder is not null && _holders.TryGetValue(m.Holder, out HolderState? state) && state.Refs == 1;
        if (reusable && m.Zero)
        {
            Clear();
        }

        return new BufferRecycled(reusable, _buf.NumUsers);
    }

    /// <summary>Zeroes every page through its kernel mapping (no vaddr needed); a device sees it after prepare.</summary>
    private unsafe void Clear()
    {
        int pageSize = _buf.PageSize;
        for (int i = 0; i < _buf.NumPages; i++)
        {
            new Span<byte>((void*)_buf.Kmap(i), pageSize).Clear();
        }
    }
}

/// <summary>
/// From a pool to one of its buffers after a release: is <see cref="Holder"/>'s ref the only one left, and if so
/// (and <see cref="Zero"/>) clear the bytes. Reply: <see cref="BufferRecycled"/>.
/// </summary>
internal sealed record RecycleBuffer(IActorRef Holder, bool Zero) : IDmaSgRequest;

internal sealed record BufferRecycled(bool Reusable, int NumUsers) : IDmaSgReply;
