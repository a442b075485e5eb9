using System.Collections.Concurrent;
using Lb.Balancing.Policies;
using Lb.Balancing.Registry;

namespace Lb.Balancing;

/// <summary>
/// One upstream pool as of one applied configuration: its targets in configuration order and its settings.
/// Immutable apart from the live state inside the targets; a new configuration yields a new pool object
/// that shares the surviving <see cref="UpstreamTarget"/> objects.
/// </summary>
public sealed class UpstreamPool
{
    /// <summary>Default of <see cref="ConnectTimeout"/>.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Default of <see cref="ResponseTimeout"/>.</summary>
    public static readonly TimeSpan DefaultResponseTimeout = TimeSpan.FromSeconds(30);

    private readonly RegistryContext _context;
    private readonly UpstreamTarget[] _targets;
    private readonly int[] _weights;
    private readonly ConcurrentDictionary<string, RouteCounter> _routeCounters;
    private AvailabilityView _view;
    private HashRing? _ring;

    internal UpstreamPool(
        RegistryContext context,
        string id,
        UpstreamTarget[] targets,
        TimeSpan connectTimeout,
        TimeSpan responseTimeout,
        ActiveHealthCheckSettings? healthCheck,
        PassiveHealthSettings passiveHealth,
        ConcurrentDictionary<string, RouteCounter> routeCounters,
        HashRing? ring,
        TimeSpan slowStart = default)
    {
        SlowStart = slowStart;
        _context = context;
        Id = id;
        _targets = targets;
        _weights = Array.ConvertAll(targets, t => t.Weight);
        ConnectTimeout = connectTimeout;
        ResponseTimeout = responseTimeout;
        HealthCheck = healthCheck;
        PassiveHealth = passiveHealth;
        _routeCounters = routeCounters;
        _ring = ring;
        _view = AvailabilityView.Build(targets, _weights, context, slowStart);
    }

    /// <summary>The pool id.</summary>
    public string Id { get; }

    /// <summary>The targets in configuration order.</summary>
    public IReadOnlyList<UpstreamTarget> Targets => _targets;

    /// <summary>Time to establish a TCP connection to a target (default 3 s).</summary>
    public TimeSpan ConnectTimeout { get; }

    /// <summary>Time a target has to start its response (default 30 s).</summary>
    public TimeSpan ResponseTimeout { get; }

    /// <summary>How long a target that comes back ramps its share up (zero: no slow start).</summary>
    public TimeSpan SlowStart { get; }

    /// <summary>The pool's queue (shared by every version of the pool with this id).</summary>
    public PoolQueue Queue { get; internal init; } = null!;

    /// <summary>True when some target has a <c>max_connections</c>: only then can a request find no room and queue.</summary>
    public bool HasLimits { get; internal init; }

    /// <summary>Requests that may wait in <see cref="Queue"/> at once (<c>queue_size</c>).</summary>
    public int QueueSize { get; internal init; }

    /// <summary>How long a request may wait in <see cref="Queue"/> (<c>queue_timeout</c>, default the connect timeout).</summary>
    public TimeSpan QueueTimeout { get; internal init; }

    /// <summary>
    /// True when a failed pick means "every eligible target is at its limit" rather than "no target is available":
    /// the pool has limits and some target is available.
    /// </summary>
    public bool AllAtLimit => HasLimits && GetView().Available.Length > 0;

    /// <summary>The active health check; null when the pool has none.</summary>
    public ActiveHealthCheckSettings? HealthCheck { get; }

    /// <summary>The passive health settings (defaults when the pool configures none).</summary>
    public PassiveHealthSettings PassiveHealth { get; }

    internal UpstreamTarget[] TargetArray => _targets;

    internal int[] Weights => _weights;

    internal HashRing? ExistingRing => Volatile.Read(ref _ring);

    /// <summary>The available targets, rebuilt only when some target's availability changed.</summary>
    internal AvailabilityView GetView()
    {
        var view = Volatile.Read(ref _view);
        if (view.Epoch == _context.HealthEpoch
            && (view.RecheckAt == long.MaxValue || _context.Time.GetTimestamp() < view.RecheckAt))
        {
            return view;
        }
        // Racing rebuilders produce equivalent views; the last write wins and nothing is lost.
        view = AvailabilityView.Build(_targets, _weights, _context, SlowStart);
        Volatile.Write(ref _view, view);
        return view;
    }

    /// <summary>The consistent-hash ring over all targets (health is applied at lookup), built once per target set.</summary>
    internal HashRing GetRing()
    {
        var ring = Volatile.Read(ref _ring);
        if (ring is not null)
        {
            return ring;
        }
        ring = HashRing.Build(_targets, _weights);
        return Interlocked.CompareExchange(ref _ring, ring, null) ?? ring;
    }

    /// <summary>The per-route position counter; it lives as long as the route keeps using this pool id.</summary>
    internal RouteCounter GetRouteCounter(string routeId) => _routeCounters.GetOrAdd(routeId, static _ => new RouteCounter());
}
