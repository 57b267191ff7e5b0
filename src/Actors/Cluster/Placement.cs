namespace DmaSg.Actors.Cluster;

/// <summary>Where a cluster client allocates a buffer. Buffers never move afterwards.</summary>
public abstract record Placement
{
    private Placement()
    {
    }

    /// <summary>The node with the most free memory first; on OutOfMemory the next one, and so on.</summary>
    public static Placement MostFreeMemory { get; } = new MostFree();

    /// <summary>Exactly this node (its host:port or its full address); OutOfMemory there is the answer.</summary>
    public static Placement OnNode(string node) => new Named(node, Fallback: false);

    /// <summary>This node first, then the others by free memory when it is out of memory.</summary>
    public static Placement PreferNode(string node) => new Named(node, Fallback: true);

    /// <summary>The nodes to try, in order, from the live ones' published stats.</summary>
    internal abstract IReadOnlyList<NodeMemoryStats> Order(IReadOnlyList<NodeMemoryStats> nodes);

    internal sealed record MostFree : Placement
    {
        internal override IReadOnlyList<NodeMemoryStats> Order(IReadOnlyList<NodeMemoryStats> nodes) => ByFreeMemory(nodes);

        public override string ToString() => "most free memory";
    }

    internal sealed record Named(string Node, bool Fallback) : Placement
    {
        internal override IReadOnlyList<NodeMemoryStats> Order(IReadOnlyList<NodeMemoryStats> nodes)
        {
            NodeMemoryStats? named = nodes.FirstOrDefault(n => n.Node == Node || n.Address == Node);
            if (named is null)
            {
                return Fallback ? ByFreeMemory(nodes) : [];
            }

            return Fallback ? [named, .. ByFreeMemory(nodes).Where(n => !ReferenceEquals(n, named))] : [named];
        }

        public override string ToString() => Fallback ? $"prefer {Node}" : $"on {Node}";
    }

    // Ties go to the node with the larger free block, then by name, so the order is stable.
    private static NodeMemoryStats[] ByFreeMemory(IEnumerable<NodeMemoryStats> nodes) =>
        nodes.OrderByDescending(n => n.FreeBytes).ThenByDescending(n => n.LargestFreeOrder).ThenBy(n => n.Address, StringComparer.Ordinal).ToArray();
}
