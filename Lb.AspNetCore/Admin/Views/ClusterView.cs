using System.Text.Json.Serialization;

namespace Lb.AspNetCore.Admin;

// GET /api/cluster and GET /api/node/cluster-status.

internal sealed record ClusterView
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public bool Enabled { get; init; }
    public required string QuorumStatus { get; init; }
    public ClusterMemberRef Leader { get; init; } = new();
    public ClusterLocal Local { get; init; } = new();
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public IReadOnlyList<ClusterMember>? Members { get; init; }
    public ClusterRaftTiming? RaftTiming { get; init; }
    public string? Mode { get; init; }
    /// <summary>This node's VIP (extension; only when a VIP is configured).</summary>
    public StatusVip? Vip { get; init; }
}

internal sealed record ClusterRaftTiming(string? HeartbeatTimeout, string? ElectionTimeout, string? LeaderLeaseTimeout, string? CommitTimeout);

internal sealed record ClusterMemberRef
{
    public string? Id { get; init; }
    public string? Address { get; init; }
}

internal sealed record ClusterLocal
{
    public string? Id { get; init; }
    public string? Address { get; init; }
    public string? State { get; init; }
    public string? LastLogIndex { get; init; }
    public string? CommitIndex { get; init; }
    public string? AppliedIndex { get; init; }
    public string? Term { get; init; }
}

// Reachable (Lb extension) is omitted when this node does not observe the member (a follower sees only its leader).
internal sealed record ClusterMember(string Id, string Address, string Role, bool IsLeader, bool? Reachable = null);

internal sealed record NodeClusterStatusView
{
    public required string State { get; init; }
    public string? NodeId { get; init; }
    public string? RaftAdvertiseAddr { get; init; }
    public required string RaftDataDir { get; init; }
    public string? LastError { get; init; }
    public string? Mode { get; init; }
    /// <summary>Lb extension: the members and their reachability as this node sees them (clustered nodes only).</summary>
    public IReadOnlyList<ClusterMember>? Members { get; init; }
}
