// The properties count fds and arena mappings of the whole process and time their budget: one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
