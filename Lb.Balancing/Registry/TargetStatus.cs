namespace Lb.Balancing;

/// <summary>A point-in-time view of one target, with the fields the runtime view shows.</summary>
/// <param name="Address">The address as configured.</param>
/// <param name="Healthy">Whether the target receives traffic now: the active check does not hold it unhealthy and passive health has not ejected it.</param>
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
    /// <summary>A rise or fall streak of active checks under way (the verdict has not flipped yet); null when none is.</summary>
    public HealthCheckProgress? CheckProgress { get; init; }
}

/// <summary>
/// How far a target is through its pool's <c>rise</c> or <c>fall</c> count: <paramref name="Count"/> checks in a row of
/// the <paramref name="Needed"/> that flip its health.
/// </summary>
/// <param name="Direction"><see cref="Rising"/> (unhealthy, checks passing) or <see cref="Falling"/> (healthy, checks failing).</param>
/// <param name="Count">Checks in a row so far.</param>
/// <param name="Needed">The pool's <c>rise</c> or <c>fall</c>.</param>
public sealed record HealthCheckProgress(string Direction, int Count, int Needed)
{
    /// <summary>An unhealthy target whose checks pass.</summary>
    public const string Rising = "rising";

    /// <summary>A healthy target whose checks fail.</summary>
    public const string Falling = "falling";

    /// <summary>For people: "1 of 2 checks passed".</summary>
    public override string ToString() => $"{Count} of {Needed} checks {(Direction == Rising ? "passed" : "failed")}";
}
