using Akka.Actor;
using Akka.Event;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Memory;
using DmaSg.Memory.Buffers;

namespace DmaSg.Actors.Buffers;

// mmap/munmap and byte access: CPU copies and device DMA through the buffer's own mapping.
public sealed partial class BufferActor
{
    // User mappings by id (made on the first mmap: most buffers are never mapped).
    private Dictionary<long, MmapEntry>? _mmaps;

    private IDmaSgReply OnMmap(Mmap m)
    {
        ValidateHolder(m.Holder);

        // SgBuffer.Mmap takes the mapping's ref itself and gives it back if the mapping fails.
        UserMapping mapping = _buf.Mmap(m.Length);
        long id = Runtime.NextId();
        (_mmaps ??= [])[id] = new MmapEntry(id, mapping, m.Holder);
        State(m.Holder).Mmaps.Add(id);
        DmaSgCounters.Inc(ref Counters.Mmaps);
        return new Mmapped(Self, id, mapping.Address, mapping.Length, mapping.MappedLength);
    }

    private IDmaSgReply OnMunmap(Munmap m)
    {
        if (_mmaps is null || !_mmaps.TryGetValue(m.MappingId, out MmapEntry? entry) || !entry.Holder.Equals(m.Holder))
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{_buf.Name} has no mapping {m.MappingId} of holder {m.Holder?.Path}");
        }

        _mmaps.Remove(m.MappingId);
        HolderState state = _holders[entry.Holder];
        state.Mmaps.Remove(m.MappingId);
        ForgetIfEmpty(entry.Holder, state);
        DmaSgCounters.Dec(ref Counters.Mmaps);
        try
        {
            entry.Mapping.Dispose();
        }
        finally
        {
            AfterDrop();
        }

        return new RefDropped(Released ? 0 : _buf.NumUsers);
    }

    private IDmaSgReply OnReadBytes(ReadBytes m)
    {
        CheckReadChunk(m.Count);
        DmaAccess.CheckRange(_buf.Size, m.Offset, m.Count);
        var data = new byte[m.Count];
        _buf.CopyToCpu(m.Offset, data);
        return new BytesRead(m.Offset, data);
    }

    private IDmaSgReply OnWriteBytes(WriteBytes m)
    {
        byte[] data = m.Data ?? throw new DmaSgException(DmaSgError.InvalidArgument, "no data");
        CheckChunk(data.Length);
        _buf.CopyFromCpu(m.Offset, data);
        return new BytesWritten(m.Offset, data.Length);
    }

    private IDmaSgReply OnDmaRead(DmaRead m)
    {
        CheckReadChunk(m.Count);
        var sgt = _buf.SgTable;
        byte[] data = DmaAccess.Read(_buf.Device, sgt.Dma.ToArray(), _buf.Size, m.Offset, m.Count);
        return new BytesRead(m.Offset, data);
    }

    private IDmaSgReply OnDmaWrite(DmaWrite m)
    {
        byte[] data = m.Data ?? throw new DmaSgException(DmaSgError.InvalidArgument, "no data");
        CheckChunk(data.Length);
        DmaAccess.Write(_buf.Device, _buf.SgTable.Dma.ToArray(), _buf.Size, m.Offset, data);
        return new BytesWritten(m.Offset, data.Length);
    }

    private void CheckChunk(int count)
    {
        if (count > Runtime.Settings.MaxChunk)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{count} bytes exceed dmasg.max-chunk ({Runtime.Settings.MaxChunk})");
        }
    }

    /// <summary>A read's reply must also fit the remote frame when the reader is on another node (else it is dropped unseen).</summary>
    private void CheckReadChunk(int count)
    {
        CheckChunk(count);
        int limit = Cluster.TransferLimits.Of(Context.System).ChunkFor(Sender, Runtime.Settings.MaxChunk);
        if (count > limit)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{count} bytes exceed the remote chunk limit ({limit}) for a reader on {Sender.Path.Address}");
        }
    }

    /// <summary>A user mapping and the holder whose ref it is.</summary>
    private sealed record MmapEntry(long Id, UserMapping Mapping, IActorRef Holder);
}
