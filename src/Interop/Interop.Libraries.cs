namespace DmaSg.Interop;

internal static partial class Interop
{
    internal static class Libraries
    {
        // glibc; the dynamic loader resolves "libc" to libc.so.6 on Linux.
        internal const string Libc = "libc";
    }
}
