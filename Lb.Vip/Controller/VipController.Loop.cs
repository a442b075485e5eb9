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

    private bool Holds(VipSettings settings)
    {
        lock (_gate)
        {
            return settings.SameAddress(_onInterface) && _state == VipState.Owned;
        }
    }

    private async Task WaitAsync(TimeSpan delay, CancellationToken changed, CancellationToken stop)
    {
        using var any = CancellationTokenSource.CreateLinkedTokenSource(changed, stop);
        await Task.Delay(delay, _time, any.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
