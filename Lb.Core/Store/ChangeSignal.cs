using Lb.Core.Spec;

namespace Lb.Core.Store;

/// <summary>
/// Publishes versioned states and lets readers await the next one without polling. Store implementations
/// share it so they all honour the <see cref="IDesiredStateStore.WaitForChangeAsync"/> contract the same way.
/// </summary>
public sealed class DesiredStateChangeSignal
{
    private VersionedDesiredState _current;
    private TaskCompletionSource<VersionedDesiredState> _next = NewSource();

    /// <summary>Starts with <paramref name="initial"/>.</summary>
    public DesiredStateChangeSignal(VersionedDesiredState initial) => _current = initial;

    /// <summary>The last published state.</summary>
    public VersionedDesiredState Current => Volatile.Read(ref _current);

    /// <summary>Makes <paramref name="state"/> current and wakes every waiter.</summary>
    public void Publish(VersionedDesiredState state)
    {
        Volatile.Write(ref _current, state);
        Interlocked.Exchange(ref _next, NewSource()).TrySetResult(state);
    }

    /// <summary>See <see cref="IDesiredStateStore.WaitForChangeAsync"/>.</summary>
    public async ValueTask<VersionedDesiredState> WaitForChangeAsync(long knownVersion, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Capture the signal before reading the state: a publish in between completes the captured signal.
            var next = Volatile.Read(ref _next);
            var current = Current;
            if (current.Version != knownVersion)
            {
                return current;
            }
            await next.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static TaskCompletionSource<VersionedDesiredState> NewSource() =>
        new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>Helpers over <see cref="IDesiredStateStore"/>.</summary>
public static class DesiredStateStoreExtensions
{
    /// <summary>
    /// Yields the current state, then every later one as it is applied. Intermediate versions may be skipped
    /// when several writes land while the consumer is busy: only the latest state matters.
    /// </summary>
    public static async IAsyncEnumerable<VersionedDesiredState> WatchAsync(
        this IDesiredStateStore store,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var current = store.Current;
        yield return current;
        while (!cancellationToken.IsCancellationRequested)
        {
            current = await store.WaitForChangeAsync(current.Version, cancellationToken).ConfigureAwait(false);
            yield return current;
        }
    }
}
