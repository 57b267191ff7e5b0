using Akka.Actor;
using DmaSg.Actors.Protocol;

namespace DmaSg.Actors.Support;

/// <summary>
/// Ask for DmaSg requests that also watches the target: a request to an object that is already released
/// (its actor stopped) is answered <see cref="Memory.DmaSgError.UseAfterRelease"/> at once instead of
/// vanishing into dead letters and timing out. Usable from plain code (await) and from actors (PipeTo).
/// </summary>
public static class DmaSgAsk
{
    /// <summary>
    /// Sends <paramref name="request"/> to <paramref name="target"/> and completes with its one reply, or with a
    /// UseAfterRelease failure when the target dies (or was dead) before replying. A reply the target sent
    /// before stopping always wins: it is queued ahead of the Terminated. Throws <see cref="TimeoutException"/>
    /// only when a live actor does not answer within <paramref name="timeout"/>.
    /// </summary>
    public static Task<IDmaSgReply> Request(ActorSystem system, IActorRef target, IDmaSgRequest request, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(request);
        if (timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "an ask needs a positive timeout");
        }

        var promise = new TaskCompletionSource<IDmaSgReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        ((ExtendedActorSystem)system).SystemActorOf(ActorProps.Of(() => new AskActor(target, request, timeout, promise)));
        return promise.Task;
    }

    /// <summary>
    /// <see cref="Request"/>, then unwraps: the reply as <typeparamref name="TReply"/>, or a
    /// <see cref="Memory.DmaSgException"/> carrying the failure's error.
    /// </summary>
    public static async Task<TReply> Request<TReply>(ActorSystem system, IActorRef target, IDmaSgRequest request, TimeSpan timeout)
        where TReply : IDmaSgReply
    {
        IDmaSgReply reply = await Request(system, target, request, timeout).ConfigureAwait(false);
        return reply switch
        {
            TReply ok => ok,
            DmaSgFailure failure => throw failure.ToException(),
            _ => throw new InvalidOperationException($"{target.Path.Name} answered {request.GetType().Name} with {reply.GetType().Name}, not {typeof(TReply).Name}"),
        };
    }

    private sealed class AskActor(IActorRef target, IDmaSgRequest request, TimeSpan timeout, TaskCompletionSource<IDmaSgReply> promise)
        : UntypedActor
    {
        protected override void PreStart()
        {
            Context.Watch(target);
            target.Tell(request, Self);
            Context.SetReceiveTimeout(timeout);
        }

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case IDmaSgReply reply:
                    promise.TrySetResult(reply);
                    break;
                case Terminated t when t.ActorRef.Equals(target):
                    promise.TrySetResult(DmaSgFailure.Released(target.Path.Name));
                    break;
                case ReceiveTimeout:
                    promise.TrySetException(new TimeoutException($"{target.Path} did not answer {request.GetType().Name} within {timeout}"));
                    break;
                default:
                    return;
            }

            Context.Stop(Self);
        }

        protected override void PostStop() =>
            promise.TrySetException(new TimeoutException($"the ask for {request.GetType().Name} to {target.Path} was stopped"));
    }
}
