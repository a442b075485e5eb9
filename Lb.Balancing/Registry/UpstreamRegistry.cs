using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using Lb.Balancing.Health;
using Lb.Balancing.Policies;
using Lb.Balancing.Registry;
using Lb.Core.Spec;
using Microsoft.Extensions.Logging;

namespace Lb.Balancing;

/// <summary>
/// The live upstream state of this node. <see cref="Apply"/> turns each desired configuration into a new
/// <see cref="UpstreamSnapshot"/> while keeping the state of every target that survives (keyed by pool id and
/// address): active-check verdict, rise/fall streaks, passive ejection, in-flight counts, per-route
/// counters and hash rings. Runs the active health checks. Create one per process and dispose it on shutdown.
/// </summary>
public sealed class UpstreamRegistry : IAsyncDisposable
{
    private readonly IHttpClientFactory _httpClientFactory;
    private readonly RegistryContext _context;
    private readonly bool _stickyKeyConfigured;
    private byte[] _stickyKey;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, PoolState> _pools = new(StringComparer.Ordinal);
    private readonly List<Task> _stopping = [];
    private UpstreamSnapshot _current = UpstreamSnapshot.Empty;
    // The route list of the last Apply and its route ids by pool, updated by what changed.
    private IReadOnlyList<RouteSpec> _lastRoutes = [];
    private readonly Dictionary<string, HashSet<string>> _routesByPool = new(StringComparer.Ordinal);
    private bool _disposed;

    /// <summary>Creates an empty registry.</summary>
    /// <param name="httpClientFactory">Source of the <see cref="BalancingOptions.HealthCheckHttpClientName"/> client used by active probes.</param>
    /// <param name="timeProvider">Clock for probe schedules, probe timeouts and ejections.</param>
    /// <param name="logger">Receives one line per health transition or ejection.</param>
    /// <param name="options">Package options; null means the defaults.</param>
    /// <param name="meterFactory">When given, health transitions and ejections are counted on the meter <c>Lb.Balancing</c>.</param>
    public UpstreamRegistry(
        IHttpClientFactory httpClientFactory,
        TimeProvider timeProvider,
        ILogger<UpstreamRegistry> logger,
        BalancingOptions? options = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(httpClientFactory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _httpClientFactory = httpClientFactory;
        _context = new RegistryContext(timeProvider, logger, new HealthMetrics(meterFactory));
        var key = options?.StickyCookieKey;
        if (key is not null && key.Length < 16)
        {
            throw new ArgumentException("the sticky cookie key must have at least 16 bytes", nameof(options));
        }
        _stickyKeyConfigured = key is not null;
        _stickyKey = key is null ? RandomNumberGenerator.GetBytes(32) : (byte[])key.Clone();
    }

    /// <summary>
    /// Switches the key behind opaque sticky-cookie values (a cluster's replicated secret, or a node's persisted one)
    /// and recomputes the value of every target; balancers built after this issue and honour the new values. Ignored
    /// when <see cref="BalancingOptions.StickyCookieKey"/> was configured, which always wins. Thread-safe.
    /// </summary>
    /// <param name="key">At least 16 bytes.</param>
    public void UseStickyKey(ReadOnlySpan<byte> key)
    {
        if (key.Length < 16)
        {
            throw new ArgumentException("the sticky cookie key must have at least 16 bytes", nameof(key));
        }
        lock (_gate)
        {
            if (_stickyKeyConfigured || key.SequenceEqual(_stickyKey))
            {
                return;
            }
            _stickyKey = key.ToArray();
            foreach (var (id, state) in _pools)
            {
                foreach (var target in state.Targets.Values)
                {
                    target.OpaqueToken = OpaqueToken(id, target.Address);
                }
            }
        }
    }

    /// <summary>The snapshot returned by the last <see cref="Apply"/> (<see cref="UpstreamSnapshot.Empty"/> before the first).</summary>
    public UpstreamSnapshot Current => Volatile.Read(ref _current);

    /// <summary>
    /// Reconciles the pools with <paramref name="config"/> and returns the new snapshot. Thread-safe (calls are
    /// serialised). Surviving targets keep their state; new targets start healthy-unknown; removed targets and
    /// pools are dropped and their health checks stopped; a changed <c>health_check</c> restarts the pool's
    /// checker but keeps the verdicts. Expects a validated configuration: unparsable durations fall back to
    /// the defaults and duplicate addresses in a pool are listed once.
    /// </summary>
    public UpstreamSnapshot Apply(ProxyConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var touched = IndexRoutes(config.Routes);

            var pools = new List<UpstreamPool>(config.UpstreamPools.Count);
            var targetCount = 0;
            var changed = false;
            foreach (var (id, spec) in config.UpstreamPools)
            {
                if (!_pools.TryGetValue(id, out var state))
                {
                    _pools[id] = state = new PoolState(_context.Time);
                }
                if (touched is null || touched.Contains(id))
                {
                    DropStaleRouteCounters(state, _routesByPool.GetValueOrDefault(id));
                }
                var before = state.LastPool;
                var pool = Reconcile(id, spec, state);
                changed |= !ReferenceEquals(before, pool);
                pools.Add(pool);
                targetCount += pool.TargetArray.Length;
            }

            foreach (var id in _pools.Keys.Where(id => !config.UpstreamPools.ContainsKey(id)).ToArray())
            {
                StopChecker(_pools[id]);
                _pools.Remove(id);
                changed = true;
            }

            // Every pool is the instance of the last snapshot: share its lookup (a large configuration whose change
            // touched routes only does not rebuild it).
            var snapshot = !changed && _current.Pools.Count == pools.Count && _current.Generation > 0
                ? new UpstreamSnapshot(_current.Generation + 1, _current)
                : new UpstreamSnapshot(_current.Generation + 1, pools);
            Volatile.Write(ref _current, snapshot);
            Log.Applied(_context.Logger, pools.Count, targetCount);
            return snapshot;
        }
    }

    /// <summary>
    /// Keeps the route ids of each pool (for dropping the counters of routes that are gone) up to date with
    /// <paramref name="routes"/>. When the list differs from the last one in a short run only (the same route instances
    /// around it, as a store that applies changes by id produces), only that run is looked at. Returns the pools whose
    /// route set may have changed, or null for all of them.
    /// </summary>
    private HashSet<string>? IndexRoutes(IReadOnlyList<RouteSpec> routes)
    {
        var old = _lastRoutes;
        int oldCount = old.Count, newCount = routes.Count, shorter = Math.Min(oldCount, newCount);
        var prefix = 0;
        while (prefix < shorter && ReferenceEquals(old[prefix], routes[prefix]))
        {
            prefix++;
        }
        var suffix = 0;
        while (suffix < shorter - prefix && ReferenceEquals(old[oldCount - 1 - suffix], routes[newCount - 1 - suffix]))
        {
            suffix++;
        }
        _lastRoutes = routes;
        if ((oldCount - prefix - suffix) + (newCount - prefix - suffix) <= Math.Max(16, newCount / 8))
        {
            var touched = new HashSet<string>(StringComparer.Ordinal);
            for (var i = prefix; i < oldCount - suffix; i++)
            {
                if (_routesByPool.TryGetValue(old[i].UpstreamPool, out var ids))
                {
                    ids.Remove(old[i].Id);
                }
                touched.Add(old[i].UpstreamPool);
            }
            for (var i = prefix; i < newCount - suffix; i++)
            {
                AddRoute(routes[i]);
                touched.Add(routes[i].UpstreamPool);
            }
            return touched;
        }
        _routesByPool.Clear();
        foreach (var route in routes)
        {
            AddRoute(route);
        }
        return null;
    }

    private void AddRoute(RouteSpec route)
    {
        if (!_routesByPool.TryGetValue(route.UpstreamPool, out var ids))
        {
            _routesByPool[route.UpstreamPool] = ids = new HashSet<string>(StringComparer.Ordinal);
        }
        ids.Add(route.Id);
    }

    /// <summary>Stops every health check and waits for the probe loops to end.</summary>
    public async ValueTask DisposeAsync()
    {
        Task[] stopping;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            foreach (var state in _pools.Values)
            {
                StopChecker(state);
            }
            stopping = [.. _stopping];
            _stopping.Clear();
        }
        await Task.WhenAll(stopping).ConfigureAwait(false);
    }

    private UpstreamPool Reconcile(string id, UpstreamPoolSpec spec, PoolState state)
    {
        // An unchanged pool is the same instance in the new snapshot (targets, health checker, ring and all), so a
        // large configuration rebuilds only the pools that changed.
        if (state.LastPool is { } unchanged && state.LastSpec is { } lastSpec && SameSpec(lastSpec, spec))
        {
            return unchanged;
        }
        var passive = ParsePassive(spec.PassiveHealth);
        var targets = new List<UpstreamTarget>(spec.Upstreams.Count);
        var byAddress = new Dictionary<string, UpstreamTarget>(StringComparer.Ordinal);
        foreach (var upstream in spec.Upstreams)
        {
            if (byAddress.ContainsKey(upstream.Address))
            {
                continue;
            }
            if (!state.Targets.TryGetValue(upstream.Address, out var target))
            {
                target = new UpstreamTarget(_context, id, upstream.Address, upstream.Weight, OpaqueToken(id, upstream.Address), state.Queue);
            }
            target.SetWeight(upstream.Weight);
            target.SetMaxConnections(upstream.MaxConnections ?? spec.MaxConnections ?? 0);
            target.SetState(upstream.EffectiveState);
            target.Passive = passive;
            byAddress[upstream.Address] = target;
            targets.Add(target);
        }
        state.Targets = byAddress;
        var targetArray = targets.ToArray();

        var health = ParseHealthCheck(spec.HealthCheck);
        if (health is null)
        {
            if (state.Checker is not null)
            {
                StopChecker(state);
                foreach (var target in targetArray)
                {
                    target.ResetActiveHealth();
                }
            }
        }
        else
        {
            if (state.Checker is { } existing && existing.Settings != health)
            {
                StopChecker(state);
                foreach (var target in targetArray)
                {
                    target.ResetStreaks();
                }
            }
            state.Checker ??= new PoolHealthChecker(_context, _httpClientFactory, id, health);
            state.Checker.Update(targetArray);
        }

        // The ring depends only on addresses and weights, so an unchanged pool keeps it.
        var ring = state.LastPool is { } last && SameTargetSet(last, targetArray) ? last.ExistingRing : null;
        var connectTimeout = spec.ConnectTimeout?.Positive ?? UpstreamPool.DefaultConnectTimeout;
        var pool = new UpstreamPool(
            _context,
            id,
            targetArray,
            connectTimeout,
            spec.ResponseTimeout?.Positive ?? UpstreamPool.DefaultResponseTimeout,
            health,
            passive,
            state.RouteCounters,
            ring,
            spec.SlowStart?.Positive ?? TimeSpan.Zero)
        {
            Queue = state.Queue,
            HasLimits = targetArray.Any(t => t.MaxConnections > 0),
            QueueSize = spec.QueueSize ?? UpstreamPoolSpec.DefaultQueueSize,
            QueueTimeout = spec.QueueTimeout?.Positive ?? connectTimeout,
        };
        state.LastPool = pool;
        state.LastSpec = spec;
        if (state.Queue.Waiting > 0)
        {
            // Requests waiting for a slot pick again under the new settings (a raised limit, a new target).
            state.Queue.WakeAll();
        }
        return pool;
    }

    private static void DropStaleRouteCounters(PoolState state, HashSet<string>? routeIds)
    {
        foreach (var routeId in state.RouteCounters.Keys)
        {
            if (routeIds is null || !routeIds.Contains(routeId))
            {
                state.RouteCounters.TryRemove(routeId, out _);
            }
        }
    }

    /// <summary>
    /// Structural equality of two pool specs: record equality for every member except the target list, which is
    /// compared element by element (records compare lists by reference). A list member added later compares by
    /// reference too, so it can only make a pool look changed, never hide a change.
    /// </summary>
    private static readonly UpstreamSpec[] NoUpstreams = [];

    internal static bool SameSpec(UpstreamPoolSpec a, UpstreamPoolSpec b) =>
        ReferenceEquals(a, b)
        || (a.Upstreams.SequenceEqual(b.Upstreams) && (a with { Upstreams = NoUpstreams }) == (b with { Upstreams = NoUpstreams }));

    private void StopChecker(PoolState state)
    {
        if (state.Checker is { } checker)
        {
            state.Checker = null;
            _stopping.RemoveAll(t => t.IsCompleted);
            _stopping.Add(checker.DisposeAsync().AsTask());
        }
    }

    private static bool SameTargetSet(UpstreamPool last, UpstreamTarget[] targets)
    {
        var old = last.TargetArray;
        if (old.Length != targets.Length)
        {
            return false;
        }
        for (var i = 0; i < old.Length; i++)
        {
            if (!ReferenceEquals(old[i], targets[i]) || last.Weights[i] != targets[i].Weight)
            {
                return false;
            }
        }
        return true;
    }

    private string OpaqueToken(string poolId, string address)
    {
        // Keyed, so a client cannot forge a cookie for a target it was never given, nor learn the address.
        var mac = HMACSHA256.HashData(_stickyKey, Encoding.UTF8.GetBytes(poolId + "\n" + address));
        return Convert.ToHexStringLower(mac.AsSpan(0, 8));
    }

    private static ActiveHealthCheckSettings? ParseHealthCheck(HealthCheckSpec? spec)
    {
        if (spec is null)
        {
            return null;
        }
        // Validation requires both (positive, timeout below interval); the fallbacks only guard a state built in code.
        var interval = spec.Interval.Positive ?? TimeSpan.FromSeconds(10);
        var timeout = spec.Timeout.Positive ?? interval / 2;
        return new ActiveHealthCheckSettings(
            spec.Path.StartsWith('/') ? spec.Path : "/" + spec.Path,
            interval,
            timeout,
            spec.ExpectStatus,
            Math.Max(1, spec.Rise ?? HealthCheckSpec.DefaultRise),
            Math.Max(1, spec.Fall ?? HealthCheckSpec.DefaultFall))
        { Tcp = spec.IsTcp };
    }

    private static PassiveHealthSettings ParsePassive(PassiveHealthSpec? spec) =>
        spec is null
            ? PassiveHealthSettings.Default
            : new PassiveHealthSettings(
                Math.Max(0, spec.ConsecutiveFailures ?? PassiveHealthSpec.DefaultConsecutiveFailures),
                spec.EjectionTime?.Positive ?? PassiveHealthSpec.DefaultEjectionTime,
                spec.Count5xx ?? false);

    /// <summary>What survives configuration changes for one pool id.</summary>
    private sealed class PoolState(TimeProvider time)
    {
        public PoolQueue Queue { get; } = new(time);

        public Dictionary<string, UpstreamTarget> Targets { get; set; } = new(StringComparer.Ordinal);

        public PoolHealthChecker? Checker { get; set; }

        public ConcurrentDictionary<string, RouteCounter> RouteCounters { get; } = new(StringComparer.Ordinal);

        public UpstreamPool? LastPool { get; set; }

        public UpstreamPoolSpec? LastSpec { get; set; }
    }
}
