using Akka.Actor;
using DmaSg.Actors.Protocol;
using DmaSg.Memory.Arena;

namespace DmaSg.Actors.Support;

/// <summary>
/// Where an <see cref="Memory.Buffers.SgBuffer"/> sends its pages on release. Until its actor binds it, pages
/// go straight back to the arena (the allocator's own rollback, on the allocator's thread); once bound,
/// they travel to the allocator by message, since only the allocator frees pages.
/// </summary>
internal sealed class PageSink(PageArena arena)
{
    private IActorRef? _allocator;
    private IActorRef? _buffer;

    public void Bind(IActorRef allocator, IActorRef buffer)
    {
        _allocator = allocator;
        _buffer = buffer;
    }

    /// <summary>Test hook: from now on returned pages are dropped, as if the buffer had died before sending them.</summary>
    public bool Lost { get; set; }

    public void Return(int[] pages)
    {
        if (Lost)
        {
            return;
        }

        if (_allocator is null || _buffer is null)
        {
            arena.FreePageList(pages);
            return;
        }

        _allocator.Tell(new PagesReturned(_buffer, pages), _buffer);
    }
}
