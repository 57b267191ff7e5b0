using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("DmaSg.Actors.Tests")]
[assembly: InternalsVisibleTo("DmaSg.Cluster.Tests")]
