using System.Globalization;
using Lb.Core.Cluster;
using Lb.Core.Node;

namespace Lb.AspNetCore.Admin;

/// <summary>Maps the cluster seams' transport-neutral views to the wire shapes of seed contract §6.5, §6.6 and §6.8.</summary>
internal static class ClusterViews
{
    public static StatusRaft Raft(ClusterStatus cluster) => new()
    {
        Enabled = cluster.Enabled,
        State = cluster.State,
        IsLeader = cluster.IsLeader,
        LeaderId = cluster.LeaderId,
        LeaderAddress = cluster.LeaderAddress,
        HasLeader = cluster.HasLeader,
        QuorumStatus = cluster.QuorumStatus,
    };

    public static StatusVip Vip(VipStatus vip) => new()
    {
        Enabled = vip.Enabled,
        Interface = vip.Interface,
        Address = vip.Address,
        Owned = vip.Owned,
        LastError = vip.LastError,
        LastTransitionAt = vip.LastTransitionAt is { } at ? Lb.Core.Json.Rfc3339.Format(at) : null,
    };

    public static ClusterView Cluster(ClusterStatus cluster) => new()
    {
        Enabled = cluster.Enabled,
        QuorumStatus = cluster.QuorumStatus,
        Leader = new ClusterMemberRef { Id = cluster.LeaderId, Address = cluster.LeaderAddress },
        Local = cluster.Local is { } local
            ? new ClusterLocal
            {
                Id = local.Id,
                Address = local.Address,
                State = local.State,
                LastLogIndex = Decimal(local.LastLogIndex),
                CommitIndex = Decimal(local.CommitIndex),
                AppliedIndex = Decimal(local.AppliedIndex),
                Term = Decimal(local.Term),
            }
            : new ClusterLocal(),
        Members = cluster.Members?.Select(m => new ClusterMember(m.Id, m.Address, m.Role, m.IsLeader, m.Reachable)).ToList(),
        RaftTiming = cluster.RaftTiming is { } t && (t.HeartbeatTimeout ?? t.ElectionTimeout ?? t.LeaderLeaseTimeout ?? t.CommitTimeout) is not null
            ? new ClusterRaftTiming(Empty(t.HeartbeatTimeout), Empty(t.ElectionTimeout), Empty(t.LeaderLeaseTimeout), Empty(t.CommitTimeout))
            : null,
        Mode = Mode(cluster.Mode),
    };

    public static NodeClusterStatusView Node(NodeClusterStatus node) => new()
    {
        State = node.State,
        NodeId = node.NodeId,
        RaftAdvertiseAddr = node.RaftAdvertiseAddr,
        RaftDataDir = node.RaftDataDir,
        LastError = node.LastError,
        Mode = Mode(node.Mode),
        Members = node.Members?.Select(m => new ClusterMember(m.Id, m.Address, m.Role, m.IsLeader, m.Reachable)).ToList(),
    };

    private static string Mode(NodeMode mode) => mode == NodeMode.Clustered ? "clustered" : "standalone";

    // The contract writes log positions and terms as decimal strings.
    private static string? Decimal(long? value) => value?.ToString(CultureInfo.InvariantCulture);

    private static string? Empty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
