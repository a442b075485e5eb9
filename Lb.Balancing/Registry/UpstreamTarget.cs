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
    private volatile int _state;
    private volatile int _maxConnections;
    private long _bytesIn;
    private long _bytesOut;
    private readonly PoolQueue _queue;
    private long _rampStart;
    private long _downSince;
    private long _downtimeTicks;

    private const int StateReady = 0;
    private const int StateDrain = 1;
    private const int StateMaint = 2;

    internal UpstreamTarget(RegistryContext context, string poolId, string address, int weight, string opaqueToken, PoolQueue? queue = null)
    {
        _context = context;
        _queue = queue ?? new PoolQueue(context.Time);
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
    public bool IsAvailable => _state == StateReady && IsHealthy;

    /// <summary>
    /// True when a client already pinned to this target (a sticky session) may still reach it: healthy and not in
    /// <c>maint</c>. A draining target takes no new clients but keeps the ones it has.
    /// </summary>
    public bool AdmitsPinned => _state != StateMaint && IsHealthy;

    /// <summary>The operator's state: <c>ready</c>, <c>drain</c> or <c>maint</c> (<see cref="TargetStates"/>).</summary>
    public string State => _state switch
    {
        StateDrain => TargetStates.Drain,
        StateMaint => TargetStates.Maint,
        _ => TargetStates.Ready,
    };

    private bool IsHealthy => _active.Healthy && _passive.Admits;

    /// <summary>Requests this target serves at once (<c>max_connections</c>); 0 means no limit.</summary>
    public int MaxConnections => _maxConnections;

    /// <summary>True when the target is below its <see cref="MaxConnections"/> (always, without a limit). A hint: <see cref="TryAcquire"/> decides.</summary>
    public bool HasRoom
    {
        get
        {
            var max = _maxConnections;
            return max == 0 || _inFlight.Count < max;
        }
    }

    /// <summary>Request body bytes sent to this target since it joined its pool (HAProxy's <c>bin</c>, bodies only).</summary>
    public long BytesIn => Interlocked.Read(ref _bytesIn);

    /// <summary>Response body bytes received from this target since it joined its pool (HAProxy's <c>bout</c>, bodies only).</summary>
    public long BytesOut => Interlocked.Read(ref _bytesOut);

    /// <summary>Counts body bytes of one exchange (zero counts cost nothing).</summary>
    public void AddBytes(long sent, long received)
    {
        if (sent > 0)
        {
            Interlocked.Add(ref _bytesIn, sent);
        }
        if (received > 0)
        {
            Interlocked.Add(ref _bytesOut, received);
        }
    }

    /// <summary>The queue of the target's pool, where requests wait while every eligible target is at its limit.</summary>
    public PoolQueue Queue => _queue;

    /// <summary>In-flight requests picked on this target and not yet completed.</summary>
    public int ActiveRequests => _inFlight.Count;

    /// <summary>The most requests this target has had in flight at once since it joined its pool.</summary>
    public int MaxActiveRequests => _inFlight.Max;

    /// <summary>How long the last active probe took; null before the first one.</summary>
    public TimeSpan? LastCheckDuration { get; internal set; }

    /// <summary>Total time the active checks have held this target down (so far, including a down period under way).</summary>
    public TimeSpan Downtime
    {
        get
        {
            var total = Volatile.Read(ref _downtimeTicks);
            var since = Volatile.Read(ref _downSince);
            return TimeSpan.FromTicks(total) + (since == 0 ? TimeSpan.Zero : _context.Time.GetElapsedTime(since));
        }
    }

    internal string PoolId { get; }

    /// <summary>The opaque sticky-cookie value of this target, precomputed so picks do not allocate.</summary>
    internal string OpaqueToken { get => Volatile.Read(ref _opaqueToken!); set => Volatile.Write(ref _opaqueToken, value); }

    private string? _opaqueToken;

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

    internal void SetMaxConnections(int max) => _maxConnections = max;

    /// <summary>TimeProvider timestamp since which the target takes traffic again (slow start); 0 when it never left.</summary>
    internal long RampStart => Volatile.Read(ref _rampStart);

    /// <summary>Applies the configured state; a change moves the target in or out of every view.</summary>
    internal void SetState(string state)
    {
        var value = state switch
        {
            TargetStates.Drain => StateDrain,
            TargetStates.Maint => StateMaint,
            _ => StateReady,
        };
        var previous = _state;
        if (previous == value)
        {
            return;
        }
        _state = value;
        if (value == StateReady)
        {
            Volatile.Write(ref _rampStart, _context.Time.GetTimestamp());
        }
        _context.BumpHealthEpoch();
    }

    /// <summary>
    /// Counts one in-flight request on this target. A balancer calls it on the target it returns from
    /// <see cref="IRouteBalancer.Pick"/>; the request's <see cref="Complete"/> releases it.
    /// </summary>
    public void Acquire() => _inFlight.Acquire();

    /// <summary>
    /// Counts one in-flight request unless the target is at its <see cref="MaxConnections"/>; balancers call it on the
    /// target they are about to return and move on to the next candidate when it answers false.
    /// </summary>
    public bool TryAcquire()
    {
        var max = _maxConnections;
        if (max == 0)
        {
            _inFlight.Acquire();
            return true;
        }
        return _inFlight.TryAcquire(max);
    }

    /// <summary>Ends one in-flight request and feeds passive health with how it went.</summary>
    /// <remarks>
    /// Call exactly once per successful pick. A surplus call cannot drive the in-flight count below zero,
    /// but it does release a slot another request holds, so least-connection would see one request too few.
    /// </remarks>
    public void Complete(RequestOutcome outcome)
    {
        _inFlight.Release();
        if (_queue.Waiting > 0)
        {
            _queue.SlotFreed();
        }
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
        return new TargetStatus(Address, IsHealthy, probe?.At, probe?.Error, ActiveRequests, _passive.ConsecutiveFailures, ejectedUntil)
        {
            CheckProgress = _active.Progress,
            State = State,
        };
    }

    /// <inheritdoc />
    public override string ToString() => Address;

    /// <summary>Records an active probe result; returns the new health when the verdict changed, otherwise null.</summary>
    /// <remarks>
    /// Once the checks see the target recover (a probe failed and, since, <paramref name="rise"/> probes passed in a
    /// row) a passive ejection in force ends: without this a restarted backend waits out the whole, possibly
    /// backed-off, ejection although its checks pass. Either way, requests waiting in the pool's queue pick again.
    /// </remarks>
    internal bool? RecordProbe(bool ok, string? error, DateTimeOffset at, int rise, int fall)
    {
        var changed = _active.Record(ok, error, at, rise, fall, out var recovered);
        if (changed == true)
        {
            var now = _context.Time.GetTimestamp();
            Volatile.Write(ref _rampStart, now);
            var since = Interlocked.Exchange(ref _downSince, 0);
            if (since != 0)
            {
                Interlocked.Add(ref _downtimeTicks, _context.Time.GetElapsedTime(since, now).Ticks);
            }
        }
        else if (changed == false)
        {
            Interlocked.CompareExchange(ref _downSince, _context.Time.GetTimestamp(), 0);
        }
        if (recovered)
        {
            _passive.LiftEjection();
        }
        if ((changed == true || recovered) && _queue.Waiting > 0)
        {
            // Requests queued while every admitted target was full pick again: this one may take them now.
            _queue.WakeAll();
        }
        return changed;
    }

    /// <summary>Forgets the active verdict (the pool lost its health check): the target routes again.</summary>
    internal void ResetActiveHealth()
    {
        _active.Reset();
        var since = Interlocked.Exchange(ref _downSince, 0);
        if (since != 0)
        {
            Interlocked.Add(ref _downtimeTicks, _context.Time.GetElapsedTime(since).Ticks);
        }
    }

    /// <summary>Keeps the verdict but restarts the rise/fall streaks (the health check settings changed).</summary>
    internal void ResetStreaks() => _active.ResetStreaks();
}
