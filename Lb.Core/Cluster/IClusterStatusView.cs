namespace Lb.Core.Cluster;

/// <summary>
/// The cluster and membership view the admin API renders. The standalone default reports a node without
/// consensus; Lb.Raft supplies the real one (its store may implement this interface itself: the node's view follows
/// whichever store is active, so it changes at <c>cluster bootstrap</c> without a restart).
/// </summary>
public interface IClusterStatusView
{
    /// <summary>The cluster as this node sees it. May verify leadership (bounded, about a second).</summary>
    ValueTask<ClusterStatus> GetClusterStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>The node's lifecycle state (used as a container health check; works on clean nodes).</summary>
    ValueTask<NodeClusterStatus> GetNodeStatusAsync(CancellationToken cancellationToken = default);
}
