using System.Globalization;
using Lb.Balancing.Registry;

namespace Lb.Balancing.Health;

/// <summary>
/// The passive-health state machine of one target: consecutive failures of real requests eject it for an
/// exponentially growing time; the first success after an ejection ends the back-off. Fed by every completed request;
/// the common case (a success with nothing to undo) takes no lock and writes nothing.
/// </summary>
internal sealed class PassiveHealth(RegistryContext context, string poolId, string address)
{
    private readonly Lock _gate = new();

    // A TimeProvider timestamp; 0 means never ejected, or back on trial and proven.
    private long _ejectedUntil;
    private int _consecutiveFailures;
    private int _ejections;
    private volatile PassiveHealthSettings _settings = PassiveHealthSettings.Default;

    public PassiveHealthSettings Settings
    {
        get => _settings;
        set => _settings = value;
    }

    /// <summary>TimeProvider timestamp at which the current ejection ends; 0 when not ejected.</summary>
    public long EjectedUntilTimestamp => Volatile.Read(ref _ejectedUntil);

    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    /// <summary>True unless an ejection is running. Reads the clock only while ejected.</summary>
    public bool Admits
    {
        get
        {
            var until = Volatile.Read(ref _ejectedUntil);
            return until == 0 || context.Time.GetTimestamp() >= until;
        }
    }

    /// <summary>Feeds the outcome of one request.</summary>
    public void Observe(RequestOutcome outcome)
    {
        var settings = _settings;
        switch (outcome)
        {
            case RequestOutcome.Success:
            case RequestOutcome.ServerError5xx when !settings.Count5xx:
                OnSuccess();
                break;
            case RequestOutcome.ConnectFailure:
            case RequestOutcome.Timeout:
            case RequestOutcome.ServerError5xx:
                OnFailure(settings);
                break;
            default:
                break;
        }
    }

    /// <summary>
    /// Ends an ejection in force and resets the back-off (active checks saw the target recover). A recovery that
    /// completed before the ejection began never reaches here, so a target whose <c>/health</c> answers while its
    /// real requests fail stays ejected.
    /// </summary>
    public void LiftEjection()
    {
        lock (_gate)
        {
            if (_ejectedUntil == 0)
            {
                return;
            }
            _consecutiveFailures = 0;
            _ejections = 0;
            Volatile.Write(ref _ejectedUntil, 0);
        }
        context.BumpHealthEpoch();
        Log.EjectionLifted(context.Logger, poolId, address);
    }

    public static TimeSpan EjectionTime(TimeSpan baseTime, int ejections)
    {
        // base × 2^(n-1), capped at 10 × base so a flapping target is retried at least every 10 base periods.
        var factor = ejections >= 5 ? 10 : Math.Min(10, 1 << (ejections - 1));
        return baseTime * factor;
    }

    private void OnSuccess()
    {
        // The common case touches no shared cache line with a write.
        if (Volatile.Read(ref _consecutiveFailures) == 0 && Volatile.Read(ref _ejections) == 0)
        {
            return;
        }
        lock (_gate)
        {
            _consecutiveFailures = 0;
            var until = _ejectedUntil;
            if (until == 0 || context.Time.GetTimestamp() >= until)
            {
                // A success while on trial (or never ejected) ends the back-off.
                _ejections = 0;
                Volatile.Write(ref _ejectedUntil, 0);
            }
        }
    }

    private void OnFailure(PassiveHealthSettings settings)
    {
        if (settings.ConsecutiveFailures <= 0)
        {
            return;
        }
        TimeSpan ejectFor;
        int failures;
        lock (_gate)
        {
            failures = ++_consecutiveFailures;
            var now = context.Time.GetTimestamp();
            var until = _ejectedUntil;
            if (until != 0 && now < until)
            {
                // Requests that started before the ejection are still finishing; they add nothing new.
                return;
            }
            var onTrial = until != 0;
            if (!onTrial && failures < settings.ConsecutiveFailures)
            {
                return;
            }
            _ejections++;
            ejectFor = EjectionTime(settings.EjectionTime, _ejections);
            Volatile.Write(ref _ejectedUntil, now + (long)(ejectFor.TotalSeconds * context.Time.TimestampFrequency));
        }
        context.BumpHealthEpoch();
        Log.TargetEjected(context.Logger, poolId, address, failures, ejectFor.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture));
        context.Metrics.Ejected(poolId, address);
    }
}
