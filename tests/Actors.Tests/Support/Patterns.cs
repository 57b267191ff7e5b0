namespace DmaSg.Actors.Tests.Support;

internal static class Patterns
{
    /// <summary>Deterministic non-zero bytes, different per seed.</summary>
    public static byte[] Bytes(int length, int seed)
    {
        var data = new byte[length];
        var rng = new Random(seed);
        rng.NextBytes(data);
        for (int i = 0; i < data.Length; i++)
        {
            data[i] |= 1;
        }

        return data;
    }
}
