using Lb.Core.Cluster;
using Microsoft.Extensions.Logging;

namespace Lb.Raft.Store;

/// <summary>
/// The leader lease (what Lb.Vip follows), time-bounded: granted when this node wins an election, valid for the
/// leader lease timeout <c>L</c> from the start of the last heartbeat round a majority acknowledged (from the
/// election until the first such round), revoked when it runs out or the moment DotNext steps the node down.
/// Why that is safe without any wait: a new leader needs a majority, which shares a member with that round's
/// majority; that member heard the round after it started and refuses to vote (or campaign) until the minimum
/// election timeout <c>Emin</c> has passed since, so no new leader exists before round start + <c>Emin</c>, while this
/// lease ended at round start + <c>L</c> (<c>L</c> ≤ <c>Emin</c>, validated). The bound is a timer of its own, so it does
/// not depend on DotNext's request timeout or on when DotNext gets round to stepping down. The winner's lease starts
/// at its election (the old leader's has ended by then, by the same argument); should its first round never reach a
/// majority, its voters may elect someone else while it still holds the lease, for at most <c>L</c> (Lb.Vip's README
/// lists the windows). Waiting for the term's first commit instead (DotNext's
/// <c>WaitForLeadershipAsync</c>) added a request timeout plus a heartbeat period to every failover, because DotNext's
/// first round of a new term waits for the dead member (docs/benchmarks.md).
/// </summary>
internal sealed partial class RaftDesiredStateStore
{
    private readonly LeaderLeaseSource _leases = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _leaseLoop;
    // Guards the fields below: which DotNext lease token (one leadership, or one renewal epoch of it) the current
    // lease follows, and the timer that ends it.
    private readonly Lock _leaseGate = new();
    private CancellationToken _grantedFor;
    private CancellationTokenRegistration _leadershipWatch;
    private CancellationTokenSource? _expiry;
    private CancellationTokenRegistration _expiryWatch;
    private long _leaseEnds; // TimeProvider timestamp

    public LeaderLease? CurrentLease => _leases.CurrentLease;

    public ValueTask<LeaderLease> WaitForLeaseAsync(CancellationToken cancellationToken = default) => _leases.WaitForLeaseAsync(cancellationToken);

    private TimeSpan LeaseLength => _node.Timing.LeaderLeaseTimeout;

    /// <summary>Follows the node's elections and acknowledged rounds for the store's lifetime.</summary>
    private async Task LeaseLoopAsync(CancellationToken stopping)
    {
        _node.Elected += OnElected;
        _node.RoundAcknowledged += OnRoundAcknowledged;
        try
        {
            await Task.Delay(Timeout.Infinite, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            _node.Elected -= OnElected;
            _node.RoundAcknowledged -= OnRoundAcknowledged;
        }
    }

    /// <summary>Runs inside DotNext's transition to leader: the lease starts at the election (see the type's summary).</summary>
    private void OnElected(CancellationToken leadership) => GrantOrExtend(leadership, LeaseLength);

    /// <summary>Runs on DotNext's heartbeat thread: the lease now ends <c>L</c> after this round's start.</summary>
    private void OnRoundAcknowledged(CancellationToken leadership, TimeSpan elapsed) => GrantOrExtend(leadership, LeaseLength - elapsed);

    /// <summary>
    /// Extends the lease that follows <paramref name="leadership"/> to <paramref name="remaining"/> from now, or
    /// grants a new one (a new leadership, or the same one after the lease ran out). Revocation is registered on the
    /// leadership token, so it happens synchronously inside DotNext's step-down rather than a thread-pool hop later
    /// (at a load of 35 on two cores that hop took up to ~100 ms, all of it added to the dual-ownership window).
    /// </summary>
    private void GrantOrExtend(CancellationToken leadership, TimeSpan remaining)
    {
        lock (_leaseGate)
        {
            if (remaining <= TimeSpan.Zero || leadership.IsCancellationRequested || _stopping.IsCancellationRequested || _node.IsRemoved)
            {
                return;
            }
            if (_grantedFor == leadership && _leases.CurrentLease is not null && _expiry is { } expiry)
            {
                // Only ever later: a round acknowledged out of order must not shorten the lease.
                var ends = EndsAt(remaining);
                if (ends > _leaseEnds)
                {
                    _leaseEnds = ends;
                    expiry.CancelAfter(remaining);
                }
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
            _expiryWatch.Unregister();
            _expiry?.Dispose();
            _leaseEnds = EndsAt(remaining);
            _expiry = new CancellationTokenSource(remaining, _time);
            _expiryWatch = _expiry.Token.Register(static state =>
            {
                var (store, token) = ((RaftDesiredStateStore, CancellationToken))state!;
                store.RevokeFor(token, expired: true);
            }, (this, leadership));
            // Runs at once (re-entering the gate: Lock is reentrant) when the leadership ended in the meantime.
            _leadershipWatch = leadership.Register(static state =>
            {
                var (store, token) = ((RaftDesiredStateStore, CancellationToken))state!;
                store.RevokeFor(token, expired: false);
            }, (this, leadership));
        }
    }

    private long EndsAt(TimeSpan remaining) => _time.GetTimestamp() + (long)(remaining.TotalSeconds * _time.TimestampFrequency);

    private void RevokeFor(CancellationToken leadership, bool expired)
    {
        lock (_leaseGate)
        {
            if (_grantedFor != leadership || _leases.CurrentLease is not { } lease)
            {
                return;
            }
            _leases.Revoke();
            if (expired)
            {
                LogLeaseExpired(_logger, _node.Settings.NodeId, lease.Term, LeaseLength.TotalMilliseconds);
            }
            else
            {
                LogLeaseRevoked(_logger, _node.Settings.NodeId, lease.Term);
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
        lock (_leaseGate)
        {
            _leadershipWatch.Unregister();
            _expiryWatch.Unregister();
            _expiry?.Dispose();
            _expiry = null;
        }
        _leases.Dispose();
        await _node.StopAsync().ConfigureAwait(false);
        await _leaseLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 4030, Level = LogLevel.Information, Message = "Node {NodeId} leads (term {Term}): leader lease granted")]
    private static partial void LogLeaseGranted(ILogger logger, string nodeId, long term);

    [LoggerMessage(EventId = 4033, Level = LogLevel.Warning, Message = "Node {NodeId} leads (term {Term}) but no heartbeat round reached a majority within the {LeaseMs} ms lease: leader lease expired")]
    private static partial void LogLeaseExpired(ILogger logger, string nodeId, long term, double leaseMs);

    [LoggerMessage(EventId = 4031, Level = LogLevel.Information, Message = "Node {NodeId} no longer leads (term {Term}): leader lease revoked")]
    private static partial void LogLeaseRevoked(ILogger logger, string nodeId, long term);

    [LoggerMessage(EventId = 4032, Level = LogLevel.Error, Message = "Node {NodeId} was removed but could not switch to standby; stop the process")]
    private static partial void LogStandbyFailed(ILogger logger, Exception exception, string nodeId);
}
