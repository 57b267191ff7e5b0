using Akka.Event;
using DmaSg.Actors.Protocol;
using DmaSg.Interop;
using DmaSg.Memory;
using DmaSg.Memory.Arena;
using DmaSg.Memory.Backends;
using DmaSg.Memory.Buffers;
using DmaSg.Memory.Dma;

namespace DmaSg.Actors.Allocator;

// The buffer backends: arena pages (memfd), or one kernel dmabuf per buffer (dma-heap) with its fallback.
public sealed partial class AllocatorActor
{
    // dmasg.backend = dma-heap: the heap every buffer comes from (opened on first use); null for memfd.
    private DmaHeapProvider? _heap;

    // Reasons the heap could not serve, each logged once.
    private readonly HashSet<string> _heapFailuresLogged = [];

    /// <summary>vb2_dma_sg_alloc on the configured backend; a request is checked before any memory is taken.</summary>
    private SgBuffer AllocateBuffer(IDmaDevice device, Allocate m, string name, Support.PageSink sink)
    {
        if (_heap is not null)
        {
            m.Direction.ThrowIfInvalidForMapping();
            Sizes.PageCount(m.Size, _arena.PageSize);
            if (TakeHeapBuffer(m.Size, name) is { } dmabuf)
            {
                return SgBuffer.FromDmabuf(dmabuf, device, m.Direction, name);
            }
        }

        return SgBuffer.Allocate(_arena, device, m.Size, m.Direction, name, sink.Return);
    }

    /// <summary>
    /// A new dmabuf from the heap, or null when the heap cannot serve and dmasg.dma-heap.fallback = memfd.
    /// With fallback = none the reason is the failure: DeviceGone naming the device, or OutOfMemory.
    /// </summary>
    private ExportedBuffer? TakeHeapBuffer(long size, string name)
    {
        DmaHeapProvider heap = _heap!;
        DmaSgException failure;
        ProviderStatus status = heap.Probe();
        if (!status.Usable)
        {
            failure = new DmaSgException(DmaSgError.DeviceGone, $"dmasg.backend = dma-heap: {status.Reason}");
        }
        else
        {
            try
            {
                return heap.Allocate(size, name);
            }
            catch (ErrnoException e)
            {
                DmaSgError error = e.Errno switch
                {
                    Errno.ENOMEM => DmaSgError.OutOfMemory,
                    Errno.ENOTTY or Errno.EACCES or Errno.EPERM or Errno.ENODEV => DmaSgError.DeviceGone,
                    _ => DmaSgError.Io,
                };
                failure = new DmaSgException(error, $"dmasg.backend = dma-heap: {heap.DevicePath} could not allocate {size} bytes for {name}: {e.Message}", e);
            }
        }

        bool fallback = Runtime.Settings.DmaHeapFallback == DmaSgSettings.MemfdBackend;
        if (_heapFailuresLogged.Add(failure.Error + ":" + (status.Usable ? "alloc" : "unusable")))
        {
            Log.Warning("{0}{1}", failure.Detail, fallback ? "; falling back to arena pages (dmasg.dma-heap.fallback = memfd)" : string.Empty);
        }

        return fallback ? null : throw failure;
    }
}
