using Lb.Core.Json;
using Lb.Core.Spec;

namespace Lb.Core.Store;

/// <summary>
/// A store that remembers the last applied versions (with when and by whom they were written), so operators can
/// inspect and roll back to them. The file store keeps them on disk; a replicated store keeps them in its state.
/// </summary>
public interface IDesiredStateHistory
{
    /// <summary>How many versions are kept at most (the oldest are dropped first).</summary>
    int HistoryLimit { get; }

    /// <summary>The kept versions without their content, newest first; the current version (when above 0) comes first.</summary>
    IReadOnlyList<DesiredStateHistorySummary> GetHistory();

    /// <summary>
    /// The kept entry with <paramref name="version"/> including its state, or null when it was never applied or has
    /// been dropped. May read storage: the history keeps only summaries in memory.
    /// </summary>
    ValueTask<DesiredStateHistoryEntry?> FindVersionAsync(long version, CancellationToken cancellationToken = default);

    /// <summary>
    /// <see cref="IDesiredStateStore.PutAsync"/> that records <paramref name="origin"/> (who or what wrote it, e.g.
    /// <c>dashboard from 10.0.0.5</c> or <c>rollback to version 7</c>) in the history entry.
    /// </summary>
    ValueTask<StoreWriteResult> PutAsync(DesiredState state, long? expectedVersion, string origin, CancellationToken cancellationToken = default);
}

/// <summary>What the history tells about one applied version without loading its content.</summary>
/// <param name="Version">The version the store gave it.</param>
/// <param name="AppliedAt">When it was applied.</param>
/// <param name="Origin">Who or what wrote it; free text for people.</param>
/// <param name="ContentHash">Content hash of its configuration (<see cref="DesiredStateJson.ContentHash(ProxyConfig)"/>).</param>
/// <param name="RouteCount">Routes in its configuration.</param>
/// <param name="PoolCount">Upstream pools in its configuration.</param>
public sealed record DesiredStateHistorySummary(long Version, DateTimeOffset AppliedAt, string Origin, string ContentHash, int RouteCount, int PoolCount)
{
    /// <summary>The summary of <paramref name="entry"/>.</summary>
    public static DesiredStateHistorySummary Of(DesiredStateHistoryEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return new(entry.Version, entry.AppliedAt, entry.Origin, entry.ContentHash, entry.State.Config.Routes.Count, entry.State.Config.UpstreamPools.Count);
    }
}

/// <summary>One applied version as the history keeps it.</summary>
/// <param name="Version">The version the store gave it.</param>
/// <param name="AppliedAt">When it was applied.</param>
/// <param name="Origin">Who or what wrote it; free text for people.</param>
/// <param name="State">The whole desired state of that version.</param>
public sealed record DesiredStateHistoryEntry(long Version, DateTimeOffset AppliedAt, string Origin, DesiredState State)
{
    /// <summary>Content hash of the configuration of this version (<see cref="DesiredStateJson.ContentHash(ProxyConfig)"/>).</summary>
    public string ContentHash { get; } = DesiredStateJson.ContentHash(State.Config);
}

/// <summary>History helpers over any <see cref="IDesiredStateStore"/>.</summary>
public static class DesiredStateHistoryExtensions
{
    /// <summary>Default of <see cref="IDesiredStateHistory.HistoryLimit"/>.</summary>
    public const int DefaultLimit = 50;

    /// <summary>Writes with an origin when the store keeps history, plainly otherwise.</summary>
    public static ValueTask<StoreWriteResult> PutAsync(this IDesiredStateStore store, DesiredState state, long? expectedVersion, string origin, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store switch
        {
            ActiveDesiredStateStore active => active.PutAsync(state, expectedVersion, origin, cancellationToken),
            IDesiredStateHistory history => history.PutAsync(state, expectedVersion, origin, cancellationToken),
            _ => store.PutAsync(state, expectedVersion, cancellationToken),
        };
    }

    /// <summary>The history of <paramref name="store"/> (of the store of the node's current mode behind an
    /// <see cref="ActiveDesiredStateStore"/>), or null when it keeps none.</summary>
    public static IDesiredStateHistory? HistoryOf(IDesiredStateStore store) =>
        store is ActiveDesiredStateStore active ? active.Inner as IDesiredStateHistory : store as IDesiredStateHistory;
}
