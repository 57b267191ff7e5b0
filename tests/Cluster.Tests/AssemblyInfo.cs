// Cluster tests start several ActorSystems and real node processes on loopback: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
