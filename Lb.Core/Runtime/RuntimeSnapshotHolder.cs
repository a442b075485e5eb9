namespace Lb.Core.Runtime;

/// <summary>
/// Holds the current immutable runtime snapshot (compiled routes, upstreams, health) and swaps it atomically.
/// Readers take one reference per request and never lock; a request keeps the snapshot it started with, so a
/// configuration change never disturbs requests in flight.
/// </summary>
/// <typeparam name="TSnapshot">The snapshot type; it must be immutable once published.</typeparam>
public sealed class RuntimeSnapshotHolder<TSnapshot>
    where TSnapshot : class
{
    private TSnapshot _current;
    private long _generation;

    /// <summary>Starts with <paramref name="initial"/> as generation 0.</summary>
    public RuntimeSnapshotHolder(TSnapshot initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        _current = initial;
    }

    /// <summary>The snapshot to use now. Read it once per request.</summary>
    public TSnapshot Current => Volatile.Read(ref _current);

    /// <summary>How many snapshots have been published after the initial one.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>Makes <paramref name="snapshot"/> current and returns the one it replaced.</summary>
    public TSnapshot Publish(TSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var previous = Interlocked.Exchange(ref _current, snapshot);
        Interlocked.Increment(ref _generation);
        return previous;
    }
}
