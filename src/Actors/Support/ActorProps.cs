using Akka.Actor;

namespace DmaSg.Actors.Support;

/// <summary>Props from a factory delegate, without compiling an expression tree per actor.</summary>
internal static class ActorProps
{
    public static Props Of<TActor>(Func<TActor> factory)
        where TActor : ActorBase =>
        Props.CreateBy(new Producer<TActor>(factory));

    private sealed class Producer<TActor>(Func<TActor> factory) : IIndirectActorProducer
        where TActor : ActorBase
    {
        public Type ActorType => typeof(TActor);

        public ActorBase Produce() => factory();

        public void Release(ActorBase actor)
        {
        }
    }
}
