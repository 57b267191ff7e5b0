using Akka.Actor;
using DmaSg.Actors.Protocol;

namespace DmaSg.Actors.Cluster;

/// <summary>
/// One node's memory as it publishes it cluster-wide (an entry of the replicated stats map, keyed by
/// <see cref="Address"/>). Placement reads these to pick a node; the <c>stats</c> verb prints them.
/// </summary>
/// <param name="Node">A short name: host:port.</param>
/// <param name="Address">The node's Akka address (akka.tcp://system@host:port).</param>
/// <param name="Allocator">The node's allocator actor, where allocations on that node go.</param>
/// <param name="TotalPages">Pages in the node's arena.</param>
/// <param name="FreePages">Pages free in it.</param>
/// <param name="PageSize">Bytes a page.</param>
/// <param name="LargestFreeOrder">The largest order with a free block (-1: nothing free).</param>
/// <param name="LiveBuffers">Buffer actors alive on the node.</param>
/// <param name="UpdatedAtMs">When the node measured this (Unix milliseconds, the node's clock).</param>
public sealed record NodeMemoryStats(
    string Node,
    string Address,
    IActorRef Allocator,
    long TotalPages,
    long FreePages,
    int PageSize,
    int LargestFreeOrder,
    int LiveBuffers,
    long UpdatedAtMs) : IDmaSgMessage
{
    public long FreeBytes => FreePages * PageSize;

    public long TotalBytes => TotalPages * PageSize;

    /// <summary>Same measurement, whenever taken (what decides whether a new one is worth publishing).</summary>
    public bool SameMemory(NodeMemoryStats? other) =>
        other is not null && other.TotalPages == TotalPages && other.FreePages == FreePages && other.PageSize == PageSize
        && other.LargestFreeOrder == LargestFreeOrder && other.LiveBuffers == LiveBuffers && other.Allocator.Equals(Allocator);
}
