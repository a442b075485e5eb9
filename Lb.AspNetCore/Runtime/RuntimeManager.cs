using Lb.Balancing;
using Lb.Core.Runtime;
using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Lb.AspNetCore.Runtime;

/// <summary>
/// Projects the desired state into runtime snapshots: on start, after every store change, and synchronously after a
/// local write (read-your-writes). Projection keeps target health and counters (the registry reconciles by pool id
/// and address) and publishes the new snapshot atomically.
/// </summary>
internal sealed partial class RuntimeManager : BackgroundService
{
    private readonly IDesiredStateStore _store;
    private readonly UpstreamRegistry _registry;
    private readonly LoadBalancingPolicies _policies;
    private readonly PoolClients _clients = new();
    private readonly RuntimeSnapshotHolder<RuntimeSnapshot> _holder = new(RuntimeSnapshot.Empty);
    private readonly Lock _applyGate = new();
    private readonly ILogger<RuntimeManager> _logger;
    private readonly TimeProvider _time;

    public RuntimeManager(IDesiredStateStore store, UpstreamRegistry registry, LoadBalancingPolicies policies, TimeProvider time, ILogger<RuntimeManager> logger)
    {
        _store = store;
        _registry = registry;
        _policies = policies;
        _time = time;
        _logger = logger;
    }

    public RuntimeSnapshot Current => _holder.Current;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        Apply(_store.Current);
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // Health checkers use the HTTP client factory; stop them while the container that owns it is still alive.
        await _registry.DisposeAsync();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var sweep = _time.CreateTimer(_ => SweepClients(), null, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));
        try
        {
            await foreach (var state in _store.WatchAsync(stoppingToken))
            {
                Apply(state);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Makes <paramref name="state"/> the running configuration unless a newer one already is.</summary>
    public void Apply(VersionedDesiredState state)
    {
        lock (_applyGate)
        {
            if (state.Version <= _holder.Current.Version)
            {
                return;
            }
            var snapshot = Build(state);
            _holder.Publish(snapshot);
            SweepClients();
            LogApplied(_logger, state.Version, snapshot.Routes.Routes.Count, snapshot.Upstreams.Pools.Count);
        }
    }

    private RuntimeSnapshot Build(VersionedDesiredState state)
    {
        var config = state.State.Config;
        var routes = RouteTable.Compile(config);
        var upstreams = _registry.Apply(config);
        string? problem = null;

        var forwarding = new Dictionary<string, PoolForwarding>(StringComparer.Ordinal);
        foreach (var (id, pool) in upstreams.Pools)
        {
            var destinations = new Dictionary<UpstreamTarget, string>(pool.Targets.Count);
            foreach (var target in pool.Targets)
            {
                destinations[target] = target.Host.Contains(':', StringComparison.Ordinal) ? $"http://[{target.Host}]:{target.Port}" : $"http://{target.Host}:{target.Port}";
            }
            var requestConfig = new ForwarderRequestConfig { ActivityTimeout = pool.ResponseTimeout, AllowResponseBuffering = false };
            forwarding[id] = new PoolForwarding(_clients.Get(pool), requestConfig, destinations);
        }

        var runtimes = new RouteRuntime[routes.Routes.Count];
        for (var i = 0; i < runtimes.Length; i++)
        {
            var route = routes.Routes[i];
            upstreams.TryGetPool(route.UpstreamPool, out var pool);
            IRouteBalancer? balancer = null;
            if (pool is not null && _policies.TryGet(route.Algorithm, out var policy))
            {
                balancer = policy.CreateBalancer(route.Spec, pool);
            }
            else if (pool is not null)
            {
                problem ??= $"route '{route.Id}': no balancing policy named '{route.Algorithm}'";
            }
            var sticky = route.Algorithm == Algorithms.StickyCookie;
            runtimes[i] = new RouteRuntime(
                route,
                pool,
                balancer,
                pool is null ? null : forwarding[pool.Id],
                sticky ? StickyCookies.CookieName(route.Id) : null,
                route.Spec.StickyCookie);
        }
        return new RuntimeSnapshot(state.Version, state.AppliedAt, config, routes, upstreams, runtimes, problem);
    }

    private void SweepClients() => _clients.Sweep(_holder.Current.Upstreams.Pools);

    public override void Dispose()
    {
        base.Dispose();
        _clients.Dispose();
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Applied configuration version {Version}: {Routes} routes, {Pools} pools")]
    private static partial void LogApplied(ILogger logger, long version, int routes, int pools);
}
