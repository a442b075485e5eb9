using Lb.Core.Options;
using Lb.Core.Store;
using Microsoft.Extensions.Options;

namespace Lb.Core.Cluster;

/// <summary>
/// The default <see cref="IClusterStatusView"/>: the active store's view when it has one (a clustered store), else
/// a standalone node without consensus.
/// </summary>
internal sealed class NodeClusterStatusView(IDesiredStateStore store, IOptions<LbNodeOptions> options) : IClusterStatusView
{
    public ValueTask<ClusterStatus> GetClusterStatusAsync(CancellationToken cancellationToken = default) =>
        Active() is { } view ? view.GetClusterStatusAsync(cancellationToken) : ValueTask.FromResult(ClusterStatus.Standalone);

    public ValueTask<NodeClusterStatus> GetNodeStatusAsync(CancellationToken cancellationToken = default)
    {
        if (Active() is { } view)
        {
            return view.GetNodeStatusAsync(cancellationToken);
        }
        var node = options.Value;
        return ValueTask.FromResult(new NodeClusterStatus
        {
            State = "unconfigured",
            NodeId = node.NodeId.Length > 0 ? node.NodeId : null,
            RaftAdvertiseAddr = node.RaftAdvertiseAddr.Length > 0 ? node.RaftAdvertiseAddr : null,
            RaftDataDir = node.DataDir,
        });
    }

    private IClusterStatusView? Active() => (store is ActiveDesiredStateStore active ? active.Inner : store) as IClusterStatusView;
}
