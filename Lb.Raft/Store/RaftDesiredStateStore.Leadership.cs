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
    // Guards the two fields below: which leadership (DotNext's per-term token) the current lease follows.
    private readonly Lock _leaseGate = new();
    private CancellationToken _grantedFor;
    private CancellationTokenRegistration _leadershipWatch;

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
                GrantFor(leadership);
                using var both = CancellationTokenSource.CreateLinkedTokenSource(leadership, stopping);
                await Task.Delay(Timeout.Infinite, both.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                // The registration in GrantFor has revoked the lease inside the step-down; this one is for shutdown.
                RevokeFor(leadership);
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

    /// <summary>
    /// Grants the lease for one leadership (one term) and revokes it inside the leadership token's cancellation, i.e.
    /// synchronously with DotNext's step-down rather than a thread-pool hop later (at a load of 35 on two cores that
    /// hop took up to ~100 ms, all of it added to the dual-ownership window).
    /// </summary>
    private void GrantFor(CancellationToken leadership)
    {
        lock (_leaseGate)
        {
            if (leadership.IsCancellationRequested || _stopping.IsCancellationRequested || _node.IsRemoved
                || (_grantedFor == leadership && _leases.CurrentLease is not null))
            {
                return;
            }
            LeaderLease lease;
            try
            {
                lease = _leases.Grant(_node.Term, _time.GetUtcNow());
            }
            catch (ObjectDisposedException)
            {
                return; // the store is shutting down
            }
            _grantedFor = leadership;
            LogLeaseGranted(_logger, _node.Settings.NodeId, lease.Term);
            // Unregister, not Dispose: Dispose would wait for a callback that may be blocked on this gate.
            _leadershipWatch.Unregister();
            // Runs at once (re-entering the gate: Lock is reentrant) when the leadership ended in the meantime.
            _leadershipWatch = leadership.Register(static state =>
            {
                var (store, token) = ((RaftDesiredStateStore, CancellationToken))state!;
                store.RevokeFor(token);
            }, (this, leadership));
        }
    }

    private void RevokeFor(CancellationToken leadership)
    {
        lock (_leaseGate)
        {
            if (_grantedFor != leadership || _leases.CurrentLease is not { } lease)
            {
                return;
            }
            _leases.Revoke();
            LogLeaseRevoked(_logger, _node.Settings.NodeId, lease.Term);
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
        lock (_leaseGate)
        {
            _leadershipWatch.Unregister();
        }
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
