using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("DmaSg.Actors.Tests")]
