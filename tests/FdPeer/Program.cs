namespace DmaSg.FdPeer;

internal static class Program
{
    private static int Main(string[] args) => Peer.Run(args);
}
