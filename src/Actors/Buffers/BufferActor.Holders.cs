using Akka.Actor;
using Akka.Event;
using DmaSg.Actors.Protocol;
using DmaSg.Memory;

namespace DmaSg.Actors.Buffers;

// Holder-owned refs: AddRef, Put, PutUserptr, and DeathWatch of holders.
public sealed partial class BufferActor
{
    private readonly Dictionary<IActorRef, HolderState> _holders = [];

    /// <summary>Takes one ref on the SgBuffer for <paramref name="holder"/> and watches it.</summary>
    private void TakeRef(IActorRef holder)
    {
        _buf.AddRef();
        State(holder).Refs++;
    }

    private HolderState State(IActorRef holder)
    {
        if (!_holders.TryGetValue(holder, out HolderState? state))
        {
            state = new HolderState();
            _holders[holder] = state;
            Context.Watch(holder);
        }

        return state;
    }

    /// <summary>Forgets a holder that holds nothing any more.</summary>
    private void ForgetIfEmpty(IActorRef holder, HolderState state)
    {
        if (state.IsEmpty)
        {
            _holders.Remove(holder);
            Context.Unwatch(holder);
        }
    }

    private IDmaSgReply OnAddRef(IActorRef holder)
    {
        ValidateHolder(holder);
        TakeRef(holder);
        return new RefTaken(_buf.NumUsers);
    }

    private IDmaSgReply OnPut(IActorRef holder)
    {
        DropRef(holder);
        return new RefDropped(Released ? 0 : _buf.NumUsers);
    }

    private IDmaSgReply OnPutUserptr(IActorRef holder)
    {
        if (!_buf.IsUserptr)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{_buf.Name} is not a USERPTR buffer");
        }

        DropRef(holder);
        return new UserptrReleased(Released ? _buf.DirtyPages : [], Released ? 0 : _buf.NumUsers);
    }

    /// <summary>Drops one plain ref of <paramref name="holder"/>; InvalidArgument (and no change) when it has none.</summary>
    private void DropRef(IActorRef holder)
    {
        if (holder is null || !_holders.TryGetValue(holder, out HolderState? state) || state.Refs == 0)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{holder?.Path.ToString() ?? "null"} holds no ref on {_buf.Name}");
        }

        state.Refs--;
        ForgetIfEmpty(holder, state);
        try
        {
            _buf.Put();
        }
        finally
        {
            AfterDrop();
        }
    }

    /// <summary>
    /// A holder died: drop all its refs and user mappings (the kernel's "fds close when the process dies").
    /// Terminated can come twice, or for a holder that already dropped everything: then there is nothing to do.
    /// </summary>
    private void OnHolderTerminated(IActorRef holder)
    {
        if (!_holders.Remove(holder, out HolderState? state))
        {
            return;
        }

        if (_dmabufs?.Remove(holder) == true)
        {
            Dprintk(2, "{0}: dmabuf {1} released its ref", _buf.Name, holder.Path.Name);
        }
        else
        {
            Log.Info("{0}: holder {1} died holding {2} refs and {3} mappings; dropping them", _buf.Name, holder.Path, state.Refs, state.Mmaps.Count);
        }

        try
        {
            foreach (long id in state.Mmaps)
            {
                if (_mmaps!.Remove(id, out MmapEntry? entry))
                {
                    Support.DmaSgCounters.Dec(ref Counters.Mmaps);
                    entry.Mapping.Dispose();
                }
            }

            int refs = state.Refs + CloseFdExports(state);
            for (int i = 0; i < refs && !Released; i++)
            {
                _buf.Put();
            }
        }
        catch (DmaSgException e)
        {
            Log.Error(e, "{0}: releasing the refs of {1} reported a problem", _buf.Name, holder.Path);
        }
        finally
        {
            AfterDrop();
        }
    }

    private sealed class HolderState
    {
        public int Refs { get; set; }

        private List<long>? _mmaps;

        private List<long>? _fdExports;

        // Made on first use: most holders never mmap.
        public List<long> Mmaps => _mmaps ??= [];

        /// <summary>Exported fds of this holder, each holding one buffer ref (made on first use, as <see cref="Mmaps"/>).</summary>
        public List<long> FdExports => _fdExports ??= [];

        /// <summary>Plain refs plus those held through exported fds.</summary>
        public int TotalRefs => Refs + (_fdExports?.Count ?? 0);

        public bool IsEmpty => Refs == 0 && (_mmaps is null || _mmaps.Count == 0) && (_fdExports is null || _fdExports.Count == 0);
    }
}
