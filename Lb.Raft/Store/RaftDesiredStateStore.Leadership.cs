using Lb.Core.Cluster;
using Microsoft.Extensions.Logging;

namespace Lb.Raft.Store;

/// <summary>
/// The leader lease (what Lb.Vip follows): granted once this node leads and has committed an entry of its term,
/// revoked the moment DotNext steps it down, which it does when a heartbeat round cannot reach a majority (within the
/// leader lease timeout, shorter than any follower's election timeout).
/// </summary>
internal sealed partial class RaftDesiredStateStore
{
    private readonly LeaderLeaseSource _leases = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _leaseLoop;

    public LeaderLease? CurrentLease => _leases.CurrentLease;

    public ValueTask<LeaderLease> WaitForLeaseAsync(CancellationToken cancellationToken = default) => _leases.WaitForLeaseAsync(cancellationToken);

    private async Task LeaseLoopAsync(CancellationToken stopping)
    {
        await Task.Yield();
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var leadership = await _node.WaitForLeadershipAsync(stopping).ConfigureAwait(false);
                if (_node.IsRemoved)
                {
                    return;
                }
                var lease = _leases.Grant(_node.Term, _time.GetUtcNow());
                LogLeaseGranted(_logger, _node.Settings.NodeId, lease.Term);
                using var both = CancellationTokenSource.CreateLinkedTokenSource(leadership, stopping);
                await Task.Delay(Timeout.Infinite, both.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                _leases.Revoke();
                LogLeaseRevoked(_logger, _node.Settings.NodeId, lease.Term);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException)
            {
                // The Raft node stopped (removed, or shutting down): no more leases.
                _leases.Revoke();
                return;
            }
        }
    }

    private void OnRemoved(Node.RaftNode node)
    {
        _leases.Revoke();
        _ = EnterStandbyAsync();
    }

    private async Task EnterStandbyAsync()
    {
        try
        {
            await _node.EnterStandbyAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogStandbyFailed(_logger, ex, _node.Settings.NodeId);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _leases.Dispose();
        await _node.StopAsync().ConfigureAwait(false);
        await _leaseLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 4030, Level = LogLevel.Information, Message = "Node {NodeId} leads (term {Term}): leader lease granted")]
    private static partial void LogLeaseGranted(ILogger logger, string nodeId, long term);

    [LoggerMessage(EventId = 4031, Level = LogLevel.Information, Message = "Node {NodeId} no longer leads (term {Term}): leader lease revoked")]
    private static partial void LogLeaseRevoked(ILogger logger, string nodeId, long term);

    [LoggerMessage(EventId = 4032, Level = LogLevel.Error, Message = "Node {NodeId} was removed but could not switch to standby; stop the process")]
    private static partial void LogStandbyFailed(ILogger logger, Exception exception, string nodeId);
}
