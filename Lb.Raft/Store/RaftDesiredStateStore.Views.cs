using Lb.Core.Cluster;
using Lb.Core.Node;

namespace Lb.Raft.Store;

/// <summary>What <c>/api/status</c>, <c>/api/cluster</c> and <c>/api/node/cluster-status</c> show on a member.</summary>
internal sealed partial class RaftDesiredStateStore
{
    public async ValueTask<ClusterStatus> GetClusterStatusAsync(CancellationToken cancellationToken = default)
    {
        var view = await _node.DescribeAsync(TimeSpan.FromMilliseconds(300), cancellationToken).ConfigureAwait(false);
        var removed = _node.IsRemoved;
        var state = removed ? "shutdown" : view.State;
        var isLeader = view.State == "leader" && !removed;
        var quorum = removed ? "unavailable"
            : isLeader ? (await _node.VerifyQuorumAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false) ? "available" : "unavailable")
            : "unknown";
        var settings = _node.Settings;
        return new ClusterStatus
        {
            Mode = NodeMode.Clustered,
            Store = "raft",
            Enabled = !_node.IsStopped && !removed,
            State = state,
            IsLeader = isLeader,
            LeaderId = removed ? null : view.Leader?.NodeId,
            LeaderAddress = removed ? null : view.Leader?.RaftAddress,
            HasLeader = !removed && view.Leader is not null,
            QuorumStatus = quorum,
            Local = new ClusterLocalStatus(settings.NodeId, Lb.Raft.Node.RaftAddress.Format(settings.Advertise), state,
                view.LastLogIndex, view.CommitIndex, view.AppliedIndex, view.Term),
            Members = view.Members.Select(m => new ClusterMemberStatus(m.NodeId ?? m.Address, m.Address, "voter", m.IsLeader, removed ? null : m.Reachable)).ToList(),
            RaftTiming = _node.Timing.ToPolicy(),
        };
    }

    public ValueTask<NodeClusterStatus> GetNodeStatusAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(new NodeClusterStatus
        {
            State = _node.IsRemoved ? "removed" : "clustered",
            NodeId = _node.Settings.NodeId,
            RaftAdvertiseAddr = Lb.Raft.Node.RaftAddress.Format(_node.Settings.Advertise),
            RaftDataDir = _raftDataDir,
            Mode = NodeMode.Clustered,
            Members = _node.IsRemoved ? null
                : [.. _node.Describe().Members.Select(m => new ClusterMemberStatus(m.NodeId ?? m.Address, m.Address, "voter", m.IsLeader, m.Reachable))],
        });
}
