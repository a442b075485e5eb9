using Lb.Vip.Driver;
using Lb.Core.Cluster;

namespace Lb.Vip.Controller;

// The loop: one step decides from (settings, lease, what is on the interface) and then waits for whichever of
// them can change next.
internal sealed partial class VipController
{
    private async Task RunAsync(CancellationToken stop)
    {
        await Task.Yield();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await StepAsync(stop);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                // Lease lost, settings changed or a retry is due: decide again.
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (Exception ex)
            {
                // Never let a bug take the node down with it: report, back off, decide again.
                Log.Unexpected(_logger, ex);
                lock (_gate)
                {
                    _lastError = $"vip controller error: {ex.Message}";
                }
                Publish();
                await Task.Delay(_options.RetryInterval, _time, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task StepAsync(CancellationToken stop)
    {
        // Read the change signal before the settings: a change in between cancels the token we wait on.
        var changed = Volatile.Read(ref _settingsChanged).Token;
        var effective = Volatile.Read(ref _effective);
        var settings = effective.Settings;

        bool clean;
        lock (_gate)
        {
            clean = DropOtherAddressesLocked(settings);
        }
        Publish();

        if (settings is null)
        {
            lock (_gate)
            {
                _lastError = effective.Error ?? (clean ? null : _lastError);
                EnterLocked(VipState.Disabled);
            }
            Publish();
            await WaitAsync(clean ? Timeout.InfiniteTimeSpan : _options.RetryInterval, changed, stop);
            return;
        }

        var lease = _leadership.CurrentLease;
        if (lease is not { IsValid: true })
        {
            lock (_gate)
            {
                clean &= ReleaseLocked("not leader");
                EnterLocked(VipState.Released);
            }
            Publish();
            // A failed cleanup is retried; otherwise only a lease or a settings change can move us.
            using var retry = new CancellationTokenSource(clean ? Timeout.InfiniteTimeSpan : _options.RetryInterval, _time);
            using var wake = CancellationTokenSource.CreateLinkedTokenSource(changed, stop, retry.Token);
            await _leadership.WaitForLeaseAsync(wake.Token);
            return;
        }

        using var scope = CancellationTokenSource.CreateLinkedTokenSource(lease.Token, changed, stop);
        if (!Holds(settings))
        {
            lock (_gate)
            {
                EnterLocked(VipState.Acquiring);
            }
            Publish();
            if (settings.AcquireDelay > TimeSpan.Zero)
            {
                await Task.Delay(settings.AcquireDelay, _time, scope.Token);
            }
            if (!TryAcquire(settings, lease))
            {
                await Task.Delay(_options.RetryInterval, _time, scope.Token);
                return;
            }
            await AnnounceAsync(settings, lease, scope.Token);
        }
        else
        {
            // Held from an earlier lease (or a failed removal): the new lease must be able to take it away too.
            WatchLease(lease);
        }
        await HoldAsync(settings, lease, scope.Token);
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

    private bool Holds(VipSettings settings)
    {
        lock (_gate)
        {
            return settings.SameAddress(_onInterface) && _state == VipState.Owned;
        }
    }

    private bool TryAcquire(VipSettings settings, LeaderLease lease)
    {
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
                _onInterface = settings;
                _maybeStale = null;
                EnterLocked(VipState.Owned);
                Log.Acquired(_logger, settings.Address.ToString(), settings.Interface, lease.Term);
            }
        }
        Publish();
        if (added)
        {
            WatchLease(lease);
        }
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

    private async Task WaitAsync(TimeSpan delay, CancellationToken changed, CancellationToken stop)
    {
        using var any = CancellationTokenSource.CreateLinkedTokenSource(changed, stop);
        await Task.Delay(delay, _time, any.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
