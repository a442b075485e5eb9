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
