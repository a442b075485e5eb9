using Lb.Vip.Driver;
using Lb.Core.Cluster;

namespace Lb.Vip.Controller;

// Driver calls and state changes; every method here runs under _gate.
internal sealed partial class VipController
{
    /// <summary>Takes off any address that is not the configured one (settings changed, or VIP turned off).</summary>
    private bool DropOtherAddressesLocked(VipSettings? settings)
    {
        var clean = true;
        if (_onInterface is { } held && !held.SameAddress(settings))
        {
            clean &= RemoveLocked(held, "settings changed");
        }
        if (_maybeStale is { } stale && !stale.SameAddress(settings))
        {
            clean &= RemoveLocked(stale, "settings changed");
        }
        return clean;
    }

    /// <summary>Makes sure the address is not on the interface; false when the driver failed (retried later).</summary>
    private bool ReleaseLocked(string reason) =>
        (_onInterface ?? _maybeStale) is not { } settings || RemoveLocked(settings, reason);

    private bool RemoveLocked(VipSettings settings, string reason)
    {
        try
        {
            _driver.RemoveAddress(settings.Interface, settings.Address);
        }
        catch (VipDriverException ex)
        {
            _lastError = ex.Message;
            Log.DriverFailed(_logger, ex.Message);
            return false;
        }
        var wasOwned = _onInterface is not null;
        if (settings.SameAddress(_onInterface))
        {
            _onInterface = null;
        }
        if (settings.SameAddress(_maybeStale))
        {
            _maybeStale = null;
        }
        _lastError = null;
        if (wasOwned && _onInterface is null)
        {
            _lastTransitionAt = _time.GetUtcNow();
            Log.Released(_logger, settings.Address.ToString(), settings.Interface, reason);
        }
        return true;
    }

    private void EnterLocked(VipState next)
    {
        var previous = _state;
        if (previous == next)
        {
            return;
        }
        _state = next;
        if (next == VipState.Owned)
        {
            _lastTransitionAt = _time.GetUtcNow();
        }
        Log.Transition(_logger, previous, next);
    }

    /// <summary>Publishes a fresh status snapshot and tells listeners; call outside _gate.</summary>
    private void Publish()
    {
        VipStatus status;
        lock (_gate)
        {
            var effective = Volatile.Read(ref _effective);
            var settings = effective.Settings;
            var configured = settings?.Address.ToString() ?? (_node.VipAddress.Length > 0 ? _node.VipAddress : _store.Current.State.Vip?.Address);
            status = new VipStatus
            {
                Enabled = !string.IsNullOrEmpty(configured),
                Interface = _node.VipInterface.Length > 0 ? _node.VipInterface : null,
                Address = string.IsNullOrEmpty(configured) ? null : configured,
                Owned = _onInterface is not null,
                LastError = _lastError ?? effective.Error,
                LastTransitionAt = _lastTransitionAt,
            };
            if (status == _status)
            {
                return;
            }
            Volatile.Write(ref _status, status);
        }
        StatusChanged?.Invoke(status);
    }
}
