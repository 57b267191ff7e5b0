// fd-count checks read /proc/self/fd, which every test changes: run one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
