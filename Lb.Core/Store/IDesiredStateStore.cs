using Lb.Core.Spec;
using Lb.Core.Validation;

namespace Lb.Core.Store;

/// <summary>
/// Where the desired state lives: a local file on a standalone node, the Raft log in a cluster.
/// Every accepted write gets a higher version; readers see whole states only.
/// </summary>
public interface IDesiredStateStore
{
    /// <summary>The latest applied state. Cheap; never blocks.</summary>
    VersionedDesiredState Current { get; }

    /// <summary>
    /// Replaces the whole desired state. With <paramref name="expectedVersion"/> the write only happens if the
    /// current version still equals it (compare-and-set). When this returns <see cref="StoreWriteStatus.Applied"/>,
    /// the write is durable and <see cref="Current"/> already reflects it.
    /// </summary>
    ValueTask<StoreWriteResult> PutAsync(DesiredState state, long? expectedVersion = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Completes as soon as <see cref="Current"/> has a version other than <paramref name="knownVersion"/>
    /// (immediately if it already has), returning that state.
    /// </summary>
    ValueTask<VersionedDesiredState> WaitForChangeAsync(long knownVersion, CancellationToken cancellationToken = default);
}

/// <summary>How a write ended.</summary>
public enum StoreWriteStatus
{
    /// <summary>Durably stored and visible in <see cref="IDesiredStateStore.Current"/>.</summary>
    Applied,
    /// <summary>The expected version did not match; nothing was written.</summary>
    VersionConflict,
    /// <summary>The state failed validation; nothing was written.</summary>
    Invalid,
    /// <summary>This node cannot accept writes (a cluster follower without forwarding); nothing was written.</summary>
    NotLeader,
    /// <summary>The store could not be reached or is shutting down; the write may not have happened.</summary>
    Unavailable,
}

/// <summary>The outcome of <see cref="IDesiredStateStore.PutAsync"/>.</summary>
public sealed record StoreWriteResult
{
    /// <summary>How the write ended.</summary>
    public required StoreWriteStatus Status { get; init; }

    /// <summary>The state after the call (the new one when applied, the unchanged one otherwise).</summary>
    public required VersionedDesiredState Current { get; init; }

    /// <summary>The validation errors when <see cref="Status"/> is <see cref="StoreWriteStatus.Invalid"/>.</summary>
    public ValidationResult? Validation { get; init; }

    /// <summary>A hint where writes go when <see cref="Status"/> is <see cref="StoreWriteStatus.NotLeader"/>.</summary>
    public string? LeaderAddress { get; init; }

    /// <summary>Human-readable detail for failures.</summary>
    public string? Message { get; init; }

    /// <summary>
    /// A machine-readable reason for <see cref="StoreWriteStatus.Unavailable"/> (e.g. <c>no_quorum</c>); the admin API
    /// answers with it instead of its generic <c>store_unavailable</c>.
    /// </summary>
    public string? Code { get; init; }

    /// <summary>True when the write was applied.</summary>
    public bool Succeeded => Status == StoreWriteStatus.Applied;
}

/// <summary>
/// A store that writes a <see cref="ConfigChange"/> as such (a replicated store logs the change, not the whole
/// document), applied to whatever state is current when it commits unless <c>expectedVersion</c> says otherwise.
/// </summary>
public interface IDesiredStateChangeStore
{
    /// <summary>
    /// Applies <paramref name="change"/> to the current configuration (with <paramref name="expectedVersion"/>: only if
    /// the current version still equals it), validated like any write; <paramref name="origin"/> goes to the history.
    /// </summary>
    ValueTask<StoreWriteResult> ApplyChangeAsync(ConfigChange change, long? expectedVersion, string origin, CancellationToken cancellationToken = default);
}

/// <summary><see cref="ConfigChange"/> writes over any <see cref="IDesiredStateStore"/>.</summary>
public static class DesiredStateChangeExtensions
{
    private const int Attempts = 5;

    /// <summary>
    /// Writes <paramref name="change"/>: as a change when the store logs changes, otherwise as the whole state built
    /// from the current one with a compare-and-set (retried when another write got in first and the caller gave no
    /// <paramref name="expectedVersion"/>).
    /// </summary>
    public static ValueTask<StoreWriteResult> ApplyChangeAsync(this IDesiredStateStore store, ConfigChange change, long? expectedVersion, string origin, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(change);
        return store is IDesiredStateChangeStore changes
            ? changes.ApplyChangeAsync(change, expectedVersion, origin, cancellationToken)
            : ApplyAsWholeAsync(store, change, expectedVersion, origin, cancellationToken);
    }

    /// <summary>The change written as a whole state through <see cref="IDesiredStateStore.PutAsync"/>.</summary>
    public static async ValueTask<StoreWriteResult> ApplyAsWholeAsync(IDesiredStateStore store, ConfigChange change, long? expectedVersion, string origin, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(change);
        for (var attempt = 1; ; attempt++)
        {
            var current = store.Current;
            if (expectedVersion is { } expected && expected != current.Version)
            {
                return new StoreWriteResult
                {
                    Status = StoreWriteStatus.VersionConflict, Current = current,
                    Message = $"expected version {expected} but the current version is {current.Version}",
                };
            }
            var next = current.State with { Config = change.ApplyTo(current.State.Config) };
            var result = await store.PutAsync(next, expectedVersion ?? current.Version, origin, cancellationToken).ConfigureAwait(false);
            if (result.Status != StoreWriteStatus.VersionConflict || expectedVersion is not null || attempt == Attempts)
            {
                return result;
            }
        }
    }
}
