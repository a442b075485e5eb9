using Lb.Core.Node;
using Lb.Core.Spec;

namespace Lb.Core.Cluster;

/// <summary>
/// The cluster as this node sees it: what <c>/api/status</c> (its <c>raft</c> part) and <c>/api/cluster</c> render.
/// Transport-neutral; the admin API maps it to the wire shapes of seed contract §6.5/§6.6.
/// </summary>
public sealed record ClusterStatus
{
    /// <summary>A standalone node on the file store: no consensus, no members.</summary>
    public static ClusterStatus Standalone { get; } = new();

    /// <summary>Standalone or clustered.</summary>
    public NodeMode Mode { get; init; } = NodeMode.Standalone;

    /// <summary>Short name of the store that holds the desired state (<c>file</c>, <c>raft</c>).</summary>
    public string Store { get; init; } = "file";

    /// <summary>True while a consensus node runs on this node.</summary>
    public bool Enabled { get; init; }

    /// <summary><c>leader</c>, <c>follower</c>, <c>candidate</c>, <c>shutdown</c>, <c>unknown</c> or <c>disabled</c>.</summary>
    public string State { get; init; } = "disabled";

    /// <summary>True when this node is the leader.</summary>
    public bool IsLeader { get; init; }

    /// <summary>The leader's node id, when known.</summary>
    public string? LeaderId { get; init; }

    /// <summary>The leader's Raft advertise address, when known.</summary>
    public string? LeaderAddress { get; init; }

    /// <summary>True when a leader is known.</summary>
    public bool HasLeader { get; init; }

    /// <summary><c>available</c>, <c>unavailable</c>, <c>unknown</c> or <c>disabled</c>.</summary>
    public string QuorumStatus { get; init; } = "disabled";

    /// <summary>This node's place in the cluster; null on a standalone node.</summary>
    public ClusterLocalStatus? Local { get; init; }

    /// <summary>The members; null on a standalone node.</summary>
    public IReadOnlyList<ClusterMemberStatus>? Members { get; init; }

    /// <summary>The Raft timing in effect (desired over local); null when nothing is set.</summary>
    public RaftTimingPolicy? RaftTiming { get; init; }
}

/// <summary>This node inside the cluster.</summary>
/// <param name="Id">Node id.</param>
/// <param name="Address">Raft advertise address.</param>
/// <param name="State">Raft state (<c>leader</c>, <c>follower</c>, ...).</param>
/// <param name="LastLogIndex">Index of the last log entry.</param>
/// <param name="CommitIndex">Index of the last committed entry.</param>
/// <param name="AppliedIndex">Index of the last applied entry.</param>
/// <param name="Term">Current term.</param>
public sealed record ClusterLocalStatus(string? Id, string? Address, string? State, long? LastLogIndex = null, long? CommitIndex = null, long? AppliedIndex = null, long? Term = null);

/// <summary>One member of the cluster configuration.</summary>
/// <param name="Id">Node id.</param>
/// <param name="Address">Raft advertise address.</param>
/// <param name="Role"><c>voter</c>, <c>nonvoter</c> or <c>staging</c>.</param>
/// <param name="IsLeader">True for the current leader.</param>
/// <param name="Reachable">
/// Whether this node reaches the member: the leader knows it for every member (from its replication rounds), a follower
/// only for itself and the leader; null when this node has not observed it.
/// </param>
public sealed record ClusterMemberStatus(string Id, string Address, string Role, bool IsLeader, bool? Reachable = null);

/// <summary>What <c>/api/node/cluster-status</c> renders (seed contract §6.8).</summary>
public sealed record NodeClusterStatus
{
    /// <summary><c>unconfigured</c>, <c>clustered</c>, <c>existing_state</c> or <c>check_error</c>.</summary>
    public required string State { get; init; }

    /// <summary>Node id, once known.</summary>
    public string? NodeId { get; init; }

    /// <summary>Raft advertise address, once known.</summary>
    public string? RaftAdvertiseAddr { get; init; }

    /// <summary>The data directory as configured.</summary>
    public required string RaftDataDir { get; init; }

    /// <summary>Why inspecting the data directory failed (<c>check_error</c>).</summary>
    public string? LastError { get; init; }

    /// <summary>Standalone or clustered.</summary>
    public NodeMode Mode { get; init; } = NodeMode.Standalone;

    /// <summary>The cluster's members with their reachability as this node sees it (clustered nodes only; Lb extension).</summary>
    public IReadOnlyList<ClusterMemberStatus>? Members { get; init; }
}
