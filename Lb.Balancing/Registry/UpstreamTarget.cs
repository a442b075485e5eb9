using Lb.Balancing.Health;
using Lb.Balancing.Registry;
using Lb.Core.Spec;

namespace Lb.Balancing;

/// <summary>
/// One upstream target: its identity (address, weight, sticky token) and its live state, kept in separate rooms
/// (active-check verdict, passive-health ejection, in-flight count) that each guard themselves. The same object
/// lives across configuration changes for as long as its pool keeps the address, so that state survives a config push.
/// </summary>
/// <remarks>
/// Every successful <see cref="IRouteBalancer.Pick"/> counts one in-flight request on the picked target;
/// the caller must call <see cref="Complete"/> exactly once when that request is over.
/// </remarks>
public sealed class UpstreamTarget
{
    private readonly RegistryContext _context;
    private readonly ActiveHealth _active;
    private readonly PassiveHealth _passive;
    private InFlightCounter _inFlight;
    private volatile int _weight;

    internal UpstreamTarget(RegistryContext context, string poolId, string address, int weight, string opaqueToken)
    {
        _context = context;
        PoolId = poolId;
        Address = address;
        _weight = weight;
        OpaqueToken = opaqueToken;
        _active = new ActiveHealth(context);
        _passive = new PassiveHealth(context, poolId, address);
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
    public bool IsAvailable => _active.Healthy && _passive.Admits;

    /// <summary>In-flight requests picked on this target and not yet completed.</summary>
    public int ActiveRequests => _inFlight.Count;

    internal string PoolId { get; }

    /// <summary>The opaque sticky-cookie value of this target, precomputed so picks do not allocate.</summary>
    internal string OpaqueToken { get; }

    internal Uri ProbeUri { get; }

    internal bool ActiveHealthy => _active.Healthy;

    /// <summary>Probe results recorded so far; lets tests wait for the n-th probe.</summary>
    internal int ProbeCount => _active.ProbeCount;

    /// <summary>TimeProvider timestamp at which the current ejection ends; 0 when not ejected.</summary>
    internal long EjectedUntilTimestamp => _passive.EjectedUntilTimestamp;

    internal PassiveHealthSettings Passive
    {
        get => _passive.Settings;
        set => _passive.Settings = value;
    }

    internal void SetWeight(int weight) => _weight = weight;

    /// <summary>
    /// Counts one in-flight request on this target. A balancer calls it on the target it returns from
    /// <see cref="IRouteBalancer.Pick"/>; the request's <see cref="Complete"/> releases it.
    /// </summary>
    public void Acquire() => _inFlight.Acquire();

    /// <summary>Ends one in-flight request and feeds passive health with how it went.</summary>
    /// <remarks>
    /// Call exactly once per successful pick. A surplus call cannot drive the in-flight count below zero,
    /// but it does release a slot another request holds, so least-connection would see one request too few.
    /// </remarks>
    public void Complete(RequestOutcome outcome)
    {
        _inFlight.Release();
        _passive.Observe(outcome);
    }

    /// <summary>Returns the current state with the fields the runtime view shows.</summary>
    public TargetStatus GetStatus()
    {
        var probe = _active.LastProbe;
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
        return new TargetStatus(Address, IsAvailable, probe?.At, probe?.Error, ActiveRequests, _passive.ConsecutiveFailures, ejectedUntil)
        {
            CheckProgress = _active.Progress,
        };
    }

    /// <inheritdoc />
    public override string ToString() => Address;

    /// <summary>Records an active probe result; returns the new health when the verdict changed, otherwise null.</summary>
    /// <remarks>
    /// Once the checks see the target recover (a probe failed and, since, <paramref name="rise"/> probes passed in a
    /// row) a passive ejection in force ends: without this a restarted backend waits out the whole, possibly
    /// backed-off, ejection although its checks pass.
    /// </remarks>
    internal bool? RecordProbe(bool ok, string? error, DateTimeOffset at, int rise, int fall)
    {
        var changed = _active.Record(ok, error, at, rise, fall, out var recovered);
        if (recovered)
        {
            _passive.LiftEjection();
        }
        return changed;
    }

    /// <summary>Forgets the active verdict (the pool lost its health check): the target routes again.</summary>
    internal void ResetActiveHealth() => _active.Reset();

    /// <summary>Keeps the verdict but restarts the rise/fall streaks (the health check settings changed).</summary>
    internal void ResetStreaks() => _active.ResetStreaks();
}
