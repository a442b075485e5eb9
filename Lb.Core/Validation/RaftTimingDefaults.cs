namespace Lb.Core.Validation;

/// <summary>
/// The Raft timing a node uses for values the policy leaves unset. Validation checks the merged values, so a policy
/// that only sets <c>heartbeat_timeout: "3s"</c> is refused up front instead of failing when Raft starts (§7.4).
/// </summary>
public sealed record RaftTimingDefaults
{
    /// <summary>The reference implementation's library defaults: 1s / 1s / 500ms / 50ms.</summary>
    public static RaftTimingDefaults Reference { get; } = new();

    /// <summary>Heartbeat timeout.</summary>
    public TimeSpan HeartbeatTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Election timeout.</summary>
    public TimeSpan ElectionTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Leader lease timeout.</summary>
    public TimeSpan LeaderLeaseTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Commit timeout.</summary>
    public TimeSpan CommitTimeout { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Smallest heartbeat, election and lease timeout a Raft node runs with.</summary>
    public TimeSpan MinimumTimeout { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Smallest commit timeout.</summary>
    public TimeSpan MinimumCommitTimeout { get; init; } = TimeSpan.FromMilliseconds(1);
}
