using System.Runtime.InteropServices;

namespace DmaSg.Interop;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);
}
