using Akka.Actor;
using Akka.Event;
using DmaSg.Actors.Protocol;
using DmaSg.Actors.Support;
using DmaSg.Memory;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Buffers;

// Export as an fd (dma_buf_fd): ExportFd, CloseFd, PrepareFd, FinishFd. Each export holds one buffer ref
// for its holder and owns its fd; the fd closes when the export is closed, the holder dies, or the buffer is
// force-released, so an fd never outlives the ref that keeps its pages (udmabuf) or its source (copies).
public sealed partial class BufferActor
{
    // Made on first use: most buffers are never exported as an fd.
    private Dictionary<long, FdExportEntry>? _fdExports;

    // Set once a udmabuf was made of these pages: the allocator then detaches them before freeing.
    private bool _pagesShared;

    // Set once any fd of this buffer's own memory went out (udmabuf, or a heap buffer's dmabuf): a copy of that
    // fd may live on in another process, so a pool must never lend these bytes to someone else.
    private bool _aliasedByFd;

    private void OnFdMessage(object message)
    {
        switch (message)
        {
            case ExportFd m:
                Respond(() => OnExportFd(m));
                break;
            case CloseFd m:
                Respond(() => OnCloseFd(m));
                break;
            case PrepareFd m:
                Respond(() =>
                {
                    FdExport(m.ExportId).Export.Prepare();
                    return Done.Instance;
                });
                break;
            case FinishFd m:
                Respond(() =>
                {
                    FdExport(m.ExportId).Export.Finish();
                    return Done.Instance;
                });
                break;
        }
    }

    private IDmaSgReply OnExportFd(ExportFd m)
    {
        ValidateHolder(m.Holder);
        if (m.Holder.Path.Address.HasGlobalScope)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument,
                $"{_buf.Name}: an fd belongs to one process, and holder {m.Holder.Path} is on another node; export on the buffer's node");
        }

        if (_buf.IsUserptr)
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{_buf.Name} is a USERPTR buffer and cannot be exported");
        }

        DmaDirection direction = m.Direction ?? _buf.Direction;
        FdExporter exporter = Runtime.Exporter ?? throw new DmaSgException(DmaSgError.DeviceGone, "the allocator has no fd exporter");

        // The export is made first: if it fails nothing changed; if the ref cannot be taken, it is closed again.
        BufferExport export = exporter.Export(_buf, direction, m.Name ?? _buf.Name);
        try
        {
            _buf.AddRef();
        }
        catch
        {
            export.Dispose();
            throw;
        }

        long id = Runtime.NextId();
        (_fdExports ??= [])[id] = new FdExportEntry(id, m.Holder, export);
        State(m.Holder).FdExports.Add(id);
        DmaSgCounters.Inc(ref Counters.FdExports);
        _aliasedByFd |= export.IsZeroCopy;
        if (export.SharesArenaPages && !_pagesShared)
        {
            _pagesShared = true;
            _allocator.Tell(new PagesShared(Self));
        }

        Dprintk(1, "{0}: exported as fd ({1})", _buf.Name, export);
        return new FdExported(Self, id, export.Buffer, direction, export.IsZeroCopy);
    }

    private IDmaSgReply OnCloseFd(CloseFd m)
    {
        FdExportEntry entry = FdExport(m.ExportId);
        if (!entry.Holder.Equals(m.Holder))
        {
            throw new DmaSgException(DmaSgError.InvalidArgument, $"{_buf.Name}: fd export {m.ExportId} is not held by {m.Holder?.Path}");
        }

        _fdExports!.Remove(m.ExportId);
        HolderState state = _holders[entry.Holder];
        state.FdExports.Remove(m.ExportId);
        ForgetIfEmpty(entry.Holder, state);
        CloseExport(entry);
        try
        {
            _buf.Put();
        }
        finally
        {
            AfterDrop();
        }

        return new RefDropped(Released ? 0 : _buf.NumUsers);
    }

    private FdExportEntry FdExport(long id) =>
        _fdExports is not null && _fdExports.TryGetValue(id, out FdExportEntry? entry)
            ? entry
            : throw new DmaSgException(DmaSgError.InvalidArgument, $"{_buf.Name} has no fd export {id}");

    /// <summary>Closes the fd exports of a dead holder; returns how many buffer refs they held.</summary>
    private int CloseFdExports(HolderState state)
    {
        if (state.TotalRefs == state.Refs || _fdExports is null)
        {
            return 0;
        }

        int refs = 0;
        foreach (long id in state.FdExports)
        {
            if (_fdExports.Remove(id, out FdExportEntry? entry))
            {
                CloseExport(entry);
                refs++;
            }
        }

        state.FdExports.Clear();
        return refs;
    }

    /// <summary>Closes every fd export, before the pages they copy or alias are released.</summary>
    private void CloseAllFdExports()
    {
        if (_fdExports is null)
        {
            return;
        }

        foreach (FdExportEntry entry in _fdExports.Values)
        {
            CloseExport(entry);
        }

        _fdExports.Clear();
    }

    private void CloseExport(FdExportEntry entry)
    {
        DmaSgCounters.Dec(ref Counters.FdExports);
        try
        {
            entry.Export.Dispose();
        }
        catch (Exception e)
        {
            Log.Error(e, "{0}: closing fd export {1} failed", _buf.Name, entry.Id);
        }
    }

    /// <summary>An exported fd and the holder whose ref it is.</summary>
    private sealed record FdExportEntry(long Id, IActorRef Holder, BufferExport Export);
}
