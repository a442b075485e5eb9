namespace Lb.Core.Runtime;

/// <summary>
/// How far this node has turned the desired state into the configuration it serves. Implemented by the one
/// component that watches the store and swaps runtime snapshots; a writer awaits
/// <see cref="WaitForAppliedAsync"/> for read-your-writes instead of applying anything itself.
/// </summary>
public interface IRuntimeApplyStatus
{
    /// <summary>The version the node serves now; -1 before the first successful build.</summary>
    long AppliedVersion { get; }

    /// <summary>The last build that failed, while no later build succeeded; null when the node serves the latest version it saw.</summary>
    RuntimeApplyFailure? LastFailure { get; }

    /// <summary>Builds that failed since the process started.</summary>
    long FailureCount { get; }

    /// <summary>
    /// Completes once a build of <paramref name="version"/> or a later version has finished, successfully or not.
    /// A failed build completes the wait too (with <see cref="RuntimeApplyOutcome.Failure"/> set), so a caller is
    /// never left waiting for a version that will not be served.
    /// </summary>
    ValueTask<RuntimeApplyOutcome> WaitForAppliedAsync(long version, CancellationToken cancellationToken = default);
}

/// <summary>A build of the runtime snapshot that threw; the previous snapshot kept serving.</summary>
/// <param name="Version">The desired-state version that could not be built.</param>
/// <param name="Error">Why (the exception message).</param>
/// <param name="At">When the build failed.</param>
public sealed record RuntimeApplyFailure(long Version, string Error, DateTimeOffset At);

/// <summary>The result of <see cref="IRuntimeApplyStatus.WaitForAppliedAsync"/>.</summary>
/// <param name="AppliedVersion">The version served when the wait completed.</param>
/// <param name="Failure">Set when the awaited version (or a later one) failed to build and is not served.</param>
public sealed record RuntimeApplyOutcome(long AppliedVersion, RuntimeApplyFailure? Failure)
{
    /// <summary>True when the awaited version or a later one is being served.</summary>
    public bool Applied => Failure is null;
}
