using System.Globalization;
using Lb.Balancing.Health;
using Lb.Balancing.Registry;
using Lb.Core.Spec;

namespace Lb.Balancing;

/// <summary>
/// One upstream target with its live state: active-check verdict, passive-health ejection and in-flight
/// request count. The same object lives across configuration changes for as long as its pool keeps the
/// address, so that state survives a config push.
/// </summary>
/// <remarks>
/// Every successful <see cref="IRouteBalancer.Pick"/> counts one in-flight request on the picked target;
/// the caller must call <see cref="Complete"/> exactly once when that request is over.
/// </remarks>
public sealed class UpstreamTarget
{
    private readonly RegistryContext _context;
    private readonly Lock _passiveGate = new();

    // Active health. "Unknown" (no verdict yet) routes like healthy.
    private volatile bool _activeHealthy = true;
    private bool _hasVerdict;
    private int _riseStreak;
    private int _fallStreak;
    private volatile ProbeRecord? _lastProbe;
    private int _probeCount;

    // Passive health. _ejectedUntil is a TimeProvider timestamp; 0 means never ejected or back on trial and proven.
    private long _ejectedUntil;
    private int _consecutiveFailures;
    private int _ejections;
    private bool _recovering;
    private int _recoveryStreak;
    private volatile PassiveHealthSettings _passive = PassiveHealthSettings.Default;

    private int _active;
    private volatile int _weight;

    internal UpstreamTarget(RegistryContext context, string poolId, string address, int weight, string opaqueToken)
    {
        _context = context;
        PoolId = poolId;
        Address = address;
        _weight = weight;
        OpaqueToken = opaqueToken;
        if (HostPort.TrySplit(address, out var host, out var port) && HostPort.TryParsePort(port, out var p))
        {
            Host = host;
            Port = p;
        }
        else
        {
            // Apply expects a validated config; an unusable address just never answers probes or requests.
            Host = address;
        }
        ProbeUri = new Uri("http://" + address + "/", UriKind.Absolute);
    }

    /// <summary>The address as configured (<c>host:port</c> or <c>[ipv6]:port</c>).</summary>
    public string Address { get; }

    /// <summary>The host part of <see cref="Address"/> (IPv6 without brackets).</summary>
    public string Host { get; }

    /// <summary>The port part of <see cref="Address"/>; 0 if the address could not be parsed.</summary>
    public int Port { get; }

    /// <summary>The configured weight (1 unless configured).</summary>
    public int Weight => _weight;

    /// <summary>
    /// True when the target may receive traffic: the active check does not hold it unhealthy and it is not
    /// ejected by passive health. Cheap: one or two volatile reads, plus a clock read only while ejected.
    /// </summary>
    public bool IsAvailable
    {
        get
        {
            if (!_activeHealthy)
            {
                return false;
            }
            var until = Volatile.Read(ref _ejectedUntil);
            return until == 0 || _context.Time.GetTimestamp() >= until;
        }
    }

    /// <summary>In-flight requests picked on this target and not yet completed.</summary>
    public int ActiveRequests => Volatile.Read(ref _active);

    internal string PoolId { get; }

    /// <summary>The opaque sticky-cookie value of this target, precomputed so picks do not allocate.</summary>
    internal string OpaqueToken { get; }

    internal Uri ProbeUri { get; }

    internal bool ActiveHealthy => _activeHealthy;

    /// <summary>Probe results recorded so far; lets tests wait for the n-th probe.</summary>
    internal int ProbeCount => Volatile.Read(ref _probeCount);

    /// <summary>TimeProvider timestamp at which the current ejection ends; 0 when not ejected.</summary>
    internal long EjectedUntilTimestamp => Volatile.Read(ref _ejectedUntil);

    internal PassiveHealthSettings Passive
    {
        get => _passive;
        set => _passive = value;
    }

    internal void SetWeight(int weight) => _weight = weight;

    /// <summary>Ends one in-flight request and feeds passive health with how it went.</summary>
    /// <remarks>
    /// Call exactly once per successful pick. A surplus call cannot drive the in-flight count below zero,
    /// but it does release a slot another request holds, so least-connection would see one request too few.
    /// </remarks>
    public void Complete(RequestOutcome outcome)
    {
        var current = Volatile.Read(ref _active);
        while (current > 0)
        {
            var seen = Interlocked.CompareExchange(ref _active, current - 1, current);
            if (seen == current)
            {
                break;
            }
            current = seen;
        }

        var passive = _passive;
        switch (outcome)
        {
            case RequestOutcome.Success:
            case RequestOutcome.ServerError5xx when !passive.Count5xx:
                OnSuccess();
                break;
            case RequestOutcome.ConnectFailure:
            case RequestOutcome.Timeout:
            case RequestOutcome.ServerError5xx:
                OnFailure(passive);
                break;
            default:
                break;
        }
    }

    /// <summary>Returns the current state with the fields the runtime view shows.</summary>
    public TargetStatus GetStatus()
    {
        var probe = _lastProbe;
        var until = EjectedUntilTimestamp;
        DateTimeOffset? ejectedUntil = null;
        var time = _context.Time;
        if (until != 0)
        {
            var remaining = time.GetElapsedTime(time.GetTimestamp(), until);
            if (remaining > TimeSpan.Zero)
            {
                ejectedUntil = time.GetUtcNow() + remaining;
            }
        }
        return new TargetStatus(
            Address,
            IsAvailable,
            probe?.At,
            probe?.Error,
            ActiveRequests,
            Volatile.Read(ref _consecutiveFailures),
            ejectedUntil);
    }

    /// <inheritdoc />
    public override string ToString() => Address;

    internal void Acquire() => Interlocked.Increment(ref _active);

    /// <summary>Records an active probe result and applies the first-verdict and rise/fall rules.</summary>
    /// <returns>The new health when the verdict changed, otherwise null.</returns>
    internal bool? RecordProbe(bool ok, string? error, DateTimeOffset at, int rise, int fall)
    {
        lock (_passiveGate)
        {
            _lastProbe = new ProbeRecord(at, error);
            bool? changed = null;
            if (!_hasVerdict)
            {
                // The first probe decides at once: an unknown target is routable, so a dead one must leave quickly.
                _hasVerdict = true;
                _riseStreak = _fallStreak = 0;
                if (_activeHealthy != ok)
                {
                    changed = ok;
                }
                _activeHealthy = ok;
            }
            else if (ok)
            {
                _fallStreak = 0;
                if (!_activeHealthy && ++_riseStreak >= rise)
                {
                    _riseStreak = 0;
                    _activeHealthy = true;
                    changed = true;
                }
            }
            else
            {
                _riseStreak = 0;
                if (_activeHealthy && ++_fallStreak >= fall)
                {
                    _fallStreak = 0;
                    _activeHealthy = false;
                    changed = false;
                }
            }
            if (changed is not null)
            {
                _context.BumpHealthEpoch();
            }
            LiftEjectionOnRecovery(ok, rise);
            _probeCount++;
            return changed;
        }
    }

    /// <summary>
    /// Ends a passive ejection once active checks see the target recover: a probe failed and, since, <paramref name="rise"/>
    /// probes passed in a row. Without this a restarted backend waits out the whole, possibly backed-off, ejection
    /// although its checks pass. A recovery completed before the ejection began does not count, so a target whose
    /// <c>/health</c> answers while its real requests fail stays ejected. Caller holds the gate.
    /// </summary>
    private void LiftEjectionOnRecovery(bool ok, int rise)
    {
        if (!ok)
        {
            _recovering = true;
            _recoveryStreak = 0;
            return;
        }
        if (!_recovering || ++_recoveryStreak < rise)
        {
            return;
        }
        _recovering = false;
        _recoveryStreak = 0;
        if (_ejectedUntil == 0)
        {
            return;
        }
        _consecutiveFailures = 0;
        _ejections = 0;
        Volatile.Write(ref _ejectedUntil, 0);
        _context.BumpHealthEpoch();
        Log.EjectionLifted(_context.Logger, PoolId, Address);
    }

    /// <summary>Forgets the active verdict (the pool lost its health check): the target routes again.</summary>
    internal void ResetActiveHealth()
    {
        lock (_passiveGate)
        {
            var wasUnhealthy = !_activeHealthy;
            _hasVerdict = false;
            _riseStreak = _fallStreak = 0;
            _recovering = false;
            _recoveryStreak = 0;
            _lastProbe = null;
            _activeHealthy = true;
            if (wasUnhealthy)
            {
                _context.BumpHealthEpoch();
            }
        }
    }

    /// <summary>Keeps the verdict but restarts the rise/fall streaks (the health check settings changed).</summary>
    internal void ResetStreaks()
    {
        lock (_passiveGate)
        {
            _riseStreak = _fallStreak = 0;
        }
    }

    private void OnSuccess()
    {
        // The common case touches no shared cache line with a write.
        if (Volatile.Read(ref _consecutiveFailures) == 0 && Volatile.Read(ref _ejections) == 0)
        {
            return;
        }
        lock (_passiveGate)
        {
            _consecutiveFailures = 0;
            var until = _ejectedUntil;
            if (until == 0 || _context.Time.GetTimestamp() >= until)
            {
                // A success while on trial (or never ejected) ends the back-off.
                _ejections = 0;
                Volatile.Write(ref _ejectedUntil, 0);
            }
        }
    }

    private void OnFailure(PassiveHealthSettings passive)
    {
        if (passive.ConsecutiveFailures <= 0)
        {
            return;
        }
        TimeSpan ejectFor;
        int failures;
        lock (_passiveGate)
        {
            failures = ++_consecutiveFailures;
            var now = _context.Time.GetTimestamp();
            var until = _ejectedUntil;
            if (until != 0 && now < until)
            {
                // Requests that started before the ejection are still finishing; they add nothing new.
                return;
            }
            var onTrial = until != 0;
            if (!onTrial && failures < passive.ConsecutiveFailures)
            {
                return;
            }
            _ejections++;
            ejectFor = EjectionTime(passive.EjectionTime, _ejections);
            Volatile.Write(ref _ejectedUntil, now + (long)(ejectFor.TotalSeconds * _context.Time.TimestampFrequency));
        }
        _context.BumpHealthEpoch();
        Log.TargetEjected(_context.Logger, PoolId, Address, failures, ejectFor.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture));
        _context.Metrics.Ejected(PoolId, Address);
    }

    internal static TimeSpan EjectionTime(TimeSpan baseTime, int ejections)
    {
        // base × 2^(n-1), capped at 10 × base so a flapping target is retried at least every 10 base periods.
        var factor = ejections >= 5 ? 10 : Math.Min(10, 1 << (ejections - 1));
        return baseTime * factor;
    }

    private sealed record ProbeRecord(DateTimeOffset At, string? Error);
}
