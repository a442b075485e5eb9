using Lb.Core.Cluster;
using Lb.Vip.Driver;

namespace Lb.Vip.Controller;

// Holding the address under a lease: take it, announce it, keep its kernel lifetime topped up, and give it up
// inside the lease's revocation.
internal sealed partial class VipController
{
    private bool TryAcquire(VipSettings settings, LeaderLease lease)
    {
        // Watch first: a revocation that lands while the address is being added then waits for the gate and
        // removes it before Revoke() returns; watching afterwards would leave it up, leaseless, for that moment.
        WatchLease(lease);
        var added = true;
        lock (_gate)
        {
            // Checked under the gate, right before the syscall: a lease lost a moment ago must not add the address.
            if (!lease.IsValid)
            {
                return false;
            }
            try
            {
                _driver.AddAddress(settings.Interface, settings.Address, _options.AddressLifetime);
            }
            catch (VipDriverException ex)
            {
                _lastError = ex.Message;
                Log.DriverFailed(_logger, ex.Message);
                added = false;
            }
            if (added)
            {
                _renewedAt = _time.GetTimestamp();
                _onInterface = settings;
                _maybeStale = null;
                EnterLocked(VipState.Owned);
                Log.Acquired(_logger, settings.Address.ToString(), settings.Interface, lease.Term);
            }
        }
        Publish();
        return added;
    }

    /// <summary>Removes the address inside the lease revocation itself (the token's callback), not one hop later.</summary>
    private void WatchLease(LeaderLease lease)
    {
        if (ReferenceEquals(_watchedLease, lease))
        {
            return;
        }
        _leaseWatch.Dispose();
        _watchedLease = lease;
        // Runs at once when the lease is already gone.
        _leaseWatch = lease.Token.Register(static state => ((VipController)state!).OnLeaseLost(), this);
    }

    private void OnLeaseLost()
    {
        try
        {
            lock (_gate)
            {
                if (_onInterface is not null && _state != VipState.Stopped)
                {
                    ReleaseLocked("lease lost");
                    EnterLocked(VipState.Released);
                }
            }
            Publish();
        }
        catch (Exception ex)
        {
            // A callback of someone else's Cancel(): never throw into it.
            Log.Unexpected(_logger, ex);
        }
    }

    private async Task AnnounceAsync(VipSettings settings, LeaderLease lease, CancellationToken cancellationToken)
    {
        var ok = true;
        for (var i = 0; i < settings.GarpCount; i++)
        {
            if (i > 0)
            {
                await Task.Delay(settings.GarpInterval, _time, cancellationToken);
            }
            lock (_gate)
            {
                if (!lease.IsValid || !settings.SameAddress(_onInterface))
                {
                    return;
                }
                try
                {
                    _driver.AnnounceAddress(settings.Interface, settings.Address);
                    Log.Announced(_logger, settings.Address.ToString(), settings.Interface, i + 1, settings.GarpCount);
                }
                catch (VipDriverException ex)
                {
                    ok = false;
                    _lastError = ex.Message;
                    Log.DriverFailed(_logger, ex.Message);
                }
            }
            Publish();
        }
        if (ok)
        {
            lock (_gate)
            {
                _lastError = null;
            }
            Publish();
        }
    }

    /// <summary>Keeps the kernel's lifetime of the address topped up until the lease, the settings or the node end.</summary>
    private async Task HoldAsync(VipSettings settings, LeaderLease lease, CancellationToken cancellationToken)
    {
        var lifetime = _options.AddressLifetime;
        if (lifetime == Timeout.InfiniteTimeSpan)
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, _time, cancellationToken);
            return;
        }
        var every = lifetime / 4;
        while (true)
        {
            await Task.Delay(every, _time, cancellationToken);
            var overdue = false;
            lock (_gate)
            {
                if (!lease.IsValid || !settings.SameAddress(_onInterface))
                {
                    return;
                }
                if (_time.GetElapsedTime(_renewedAt) >= lifetime)
                {
                    // A renewal a whole lifetime late: this process did not run (SIGSTOP, a frozen VM, a long pause), the
                    // kernel has dropped the address or is about to, and another node may lead by now although this
                    // lease has not been revoked yet (Raft has not run either). Do not put it back: give it up, and
                    // take it again (with announcements) only if the lease survives one more renewal period; Raft steps
                    // a deposed leader down within a round trip of waking.
                    ReleaseLocked("renewal a lifetime late: paused");
                    EnterLocked(VipState.Released);
                    overdue = true;
                }
            }
            if (overdue)
            {
                Publish();
                await Task.Delay(every, _time, cancellationToken);
                return;
            }
            lock (_gate)
            {
                if (!lease.IsValid || !settings.SameAddress(_onInterface))
                {
                    return;
                }
                try
                {
                    // Also puts the address back if someone deleted it by hand.
                    _driver.AddAddress(settings.Interface, settings.Address, lifetime);
                    _renewedAt = _time.GetTimestamp();
                    if (_refreshFailed)
                    {
                        _refreshFailed = false;
                        _lastError = null;
                    }
                }
                catch (VipDriverException ex)
                {
                    _refreshFailed = true;
                    _lastError = ex.Message;
                    Log.DriverFailed(_logger, ex.Message);
                }
            }
            Publish();
        }
    }
}
