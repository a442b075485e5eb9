using System.Net;
using DotNext.Net.Cluster.Consensus.Raft.Membership;
using Microsoft.Extensions.Logging;

namespace Lb.Raft.Node;

internal sealed partial class RaftNode
{
    private int _wasMember;
    private int _removed;

    /// <summary>Raised once when a committed configuration no longer lists this node (it was removed).</summary>
    public event Action<RaftNode>? Removed;

    /// <summary>True once this node saw itself removed from the cluster (or started as a removed standby).</summary>
    public bool IsRemoved => Volatile.Read(ref _removed) != 0 || Settings.Standby;

    /// <summary>Stops campaigning for good: the node keeps its state readable but never becomes a candidate.</summary>
    public async Task EnterStandbyAsync(CancellationToken cancellationToken)
    {
        File.WriteAllBytes(Settings.RemovedMarker, []);
        if (!IsStopped)
        {
            await _cluster.EnableStandbyModeAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private ValueTask OnMembershipChangedAsync(IClusterConfiguration<EndPoint> configuration, CancellationToken cancellationToken)
    {
        var isMember = configuration.Members.Contains(Settings.Advertise);
        if (isMember)
        {
            Volatile.Write(ref _wasMember, 1);
        }
        else if (Volatile.Read(ref _wasMember) != 0)
        {
            MarkRemoved();
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Records that this node is no longer a member (the leader said so, or a committed configuration omits it) and
    /// raises <see cref="Removed"/> once. A removed node often never learns of the configuration that removed it, since
    /// the leader stops replicating to it: hence the leader's notice.
    /// </summary>
    public void MarkRemoved()
    {
        if (Interlocked.Exchange(ref _removed, 1) != 0)
        {
            return;
        }
        LogRemoved(_logger, Settings.NodeId);
        // Stopping from inside DotNext's configuration callback would wait on itself: leave it to the handler.
        var handler = Removed;
        _ = Task.Run(() => handler?.Invoke(this), CancellationToken.None);
    }

    [LoggerMessage(EventId = 4016, Level = LogLevel.Warning, Message = "Node {NodeId} was removed from the cluster; it stops its Raft node and no longer campaigns")]
    private static partial void LogRemoved(ILogger logger, string nodeId);
}
