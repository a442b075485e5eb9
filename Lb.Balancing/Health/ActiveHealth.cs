using Lb.Balancing.Registry;

namespace Lb.Balancing.Health;

/// <summary>
/// The active-check state machine of one target: first verdict decides at once, then rise/fall streaks. Written by
/// the target's probe loop and by reconciliation, read lock-free by the data path (<see cref="Healthy"/>).
/// </summary>
internal sealed class ActiveHealth(RegistryContext context)
{
    private readonly Lock _gate = new();

    // "Unknown" (no verdict yet) routes like healthy.
    private volatile bool _healthy = true;
    private bool _hasVerdict;
    private int _riseStreak;
    private int _fallStreak;
    private volatile ProbeRecord? _lastProbe;
    private int _probeCount;

    // Recovery: a probe failed, and this many have passed in a row since.
    private bool _recovering;
    private int _recoveryStreak;

    private int _rise;
    private int _fall;

    /// <summary>
    /// A streak under way that has not flipped the verdict yet: passes while unhealthy (rising) or failures while
    /// healthy (falling); null when none is.
    /// </summary>
    public HealthCheckProgress? Progress
    {
        get
        {
            lock (_gate)
            {
                if (!_hasVerdict)
                {
                    return null;
                }
                if (!_healthy && _riseStreak > 0)
                {
                    return new HealthCheckProgress(HealthCheckProgress.Rising, _riseStreak, _rise);
                }
                return _healthy && _fallStreak > 0 ? new HealthCheckProgress(HealthCheckProgress.Falling, _fallStreak, _fall) : null;
            }
        }
    }

    /// <summary>False only while the checks hold the target unhealthy.</summary>
    public bool Healthy => _healthy;

    public ProbeRecord? LastProbe => _lastProbe;

    /// <summary>Probe results recorded so far; lets tests wait for the n-th probe.</summary>
    public int ProbeCount => Volatile.Read(ref _probeCount);

    /// <summary>Records a probe result and applies the first-verdict and rise/fall rules.</summary>
    /// <remarks>
    /// <c>recovered</c> is true when this probe completes a recovery: a probe failed and, since, <c>rise</c> passed in
    /// a row. A recovery completed earlier does not count again.
    /// </remarks>
    /// <returns>The new health when the verdict changed, otherwise null.</returns>
    public bool? Record(bool ok, string? error, DateTimeOffset at, int rise, int fall, out bool recovered)
    {
        lock (_gate)
        {
            _rise = rise;
            _fall = fall;
            recovered = TrackRecovery(ok, rise);
            _lastProbe = new ProbeRecord(at, error);
            bool? changed = null;
            if (!_hasVerdict)
            {
                // The first probe decides at once: an unknown target is routable, so a dead one must leave quickly.
                _hasVerdict = true;
                _riseStreak = _fallStreak = 0;
                if (_healthy != ok)
                {
                    changed = ok;
                }
                _healthy = ok;
            }
            else if (ok)
            {
                _fallStreak = 0;
                if (!_healthy && ++_riseStreak >= rise)
                {
                    _riseStreak = 0;
                    _healthy = true;
                    changed = true;
                }
            }
            else
            {
                _riseStreak = 0;
                if (_healthy && ++_fallStreak >= fall)
                {
                    _fallStreak = 0;
                    _healthy = false;
                    changed = false;
                }
            }
            if (changed is not null)
            {
                context.BumpHealthEpoch();
            }
            _probeCount++;
            return changed;
        }
    }

    /// <summary>Forgets the verdict (the pool lost its health check): the target routes again.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            var wasUnhealthy = !_healthy;
            _hasVerdict = false;
            _riseStreak = _fallStreak = 0;
            _recovering = false;
            _recoveryStreak = 0;
            _lastProbe = null;
            _healthy = true;
            if (wasUnhealthy)
            {
                context.BumpHealthEpoch();
            }
        }
    }

    private bool TrackRecovery(bool ok, int rise)
    {
        if (!ok)
        {
            _recovering = true;
            _recoveryStreak = 0;
            return false;
        }
        if (!_recovering || ++_recoveryStreak < rise)
        {
            return false;
        }
        _recovering = false;
        _recoveryStreak = 0;
        return true;
    }

    /// <summary>Keeps the verdict but restarts the rise/fall streaks (the health check settings changed).</summary>
    public void ResetStreaks()
    {
        lock (_gate)
        {
            _riseStreak = _fallStreak = 0;
        }
    }
}

/// <summary>When the last probe finished and why it failed (null error after a success).</summary>
internal sealed record ProbeRecord(DateTimeOffset At, string? Error);
