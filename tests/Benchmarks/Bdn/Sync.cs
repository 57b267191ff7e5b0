namespace DmaSg.Benchmarks.Bdn;

internal static class Sync
{
    /// <summary>Waits for a design's ValueTask (completed synchronously by the non-actor designs).</summary>
    public static void Wait(ValueTask task)
    {
        if (task.IsCompletedSuccessfully)
        {
            return;
        }

        task.AsTask().GetAwaiter().GetResult();
    }

    public static T Wait<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
}
