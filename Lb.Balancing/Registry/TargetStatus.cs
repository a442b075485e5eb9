namespace Lb.Balancing;

/// <summary>A point-in-time view of one target, with the fields the runtime view shows.</summary>
/// <param name="Address">The address as configured.</param>
/// <param name="Healthy">Whether the checks let the target take traffic: the active check does not hold it unhealthy and passive health has not ejected it (<see cref="State"/> may still keep it out).</param>
/// <param name="LastCheckedAt">When the last active probe finished; null if the pool has no health check or no probe has finished yet.</param>
/// <param name="LastError">Why the last active probe failed; null after a successful probe.</param>
/// <param name="ActiveConnections">In-flight requests through this node (picked and not yet completed).</param>
/// <param name="ConsecutiveFailures">Failed requests in a row as seen by passive health.</param>
/// <param name="EjectedUntil">When a passive ejection ends; null when the target is not ejected.</param>
public sealed record TargetStatus(
    string Address,
    bool Healthy,
    DateTimeOffset? LastCheckedAt,
    string? LastError,
    int ActiveConnections,
    int ConsecutiveFailures,
    DateTimeOffset? EjectedUntil)
{
    /// <summary>The operator's state: <c>ready</c>, <c>drain</c> or <c>maint</c>.</summary>
    public string State { get; init; } = Lb.Core.Spec.TargetStates.Ready;
}
