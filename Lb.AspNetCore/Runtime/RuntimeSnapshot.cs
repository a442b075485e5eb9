using Lb.Balancing;
using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace Lb.AspNetCore.Runtime;

/// <summary>
/// Everything the proxy needs for one configuration version, immutable once published: the route table, the
/// upstream pools (whose targets carry live health and counters) and, per route, its balancer and forwarding
/// settings. A request reads it once and keeps it to the end.
/// </summary>
internal sealed class RuntimeSnapshot
{
    public RuntimeSnapshot(long version, DateTimeOffset appliedAt, ProxyConfig config, RouteTable routes, UpstreamSnapshot upstreams, RouteRuntime[] routeRuntimes, string? projectionError)
    {
        Version = version;
        AppliedAt = appliedAt;
        Config = config;
        ContentHash = DesiredStateJson.ContentHash(config);
        Routes = routes;
        Upstreams = upstreams;
        RouteRuntimes = routeRuntimes;
        ProjectionError = projectionError;
    }

    public static RuntimeSnapshot Empty { get; } = new(-1, DateTimeOffset.MinValue, ProxyConfig.Empty, RouteTable.Empty, UpstreamSnapshot.Empty, [], null);

    public long Version { get; }

    public DateTimeOffset AppliedAt { get; }

    public ProxyConfig Config { get; }

    public string ContentHash { get; }

    public RouteTable Routes { get; }

    public UpstreamSnapshot Upstreams { get; }

    /// <summary>Parallel to <see cref="RouteTable.Routes"/>: index with <see cref="CompiledRoute.PriorityIndex"/>.</summary>
    public RouteRuntime[] RouteRuntimes { get; }

    /// <summary>Why the last configuration could not be fully projected, or null.</summary>
    public string? ProjectionError { get; }

    public (int Total, int Healthy) CountTargets()
    {
        int total = 0, healthy = 0;
        foreach (var pool in Upstreams.Pools.Values)
        {
            foreach (var target in pool.Targets)
            {
                total++;
                if (target.IsAvailable)
                {
                    healthy++;
                }
            }
        }
        return (total, healthy);
    }
}

/// <summary>What the proxy needs for one route, prepared once per snapshot.</summary>
internal sealed class RouteRuntime(CompiledRoute route, UpstreamPool? pool, IRouteBalancer? balancer, PoolForwarding? forwarding, string? stickyCookieName, StickyCookieSpec? stickyOptions)
{
    public CompiledRoute Route { get; } = route;

    public UpstreamPool? Pool { get; } = pool;

    public IRouteBalancer? Balancer { get; } = balancer;

    public PoolForwarding? Forwarding { get; } = forwarding;

    /// <summary>Cookie name for sticky routes; null otherwise.</summary>
    public string? StickyCookieName { get; } = stickyCookieName;

    public StickyCookieSpec? StickyOptions { get; } = stickyOptions;

    /// <summary>True when the route's policy hashes the connection (client and local address, ports, protocol).</summary>
    public bool UsesConnection { get; } = route.Algorithm == Algorithms.FiveTupleHash;
}

/// <summary>Forwarding resources of one pool: the shared connection pool and per-target destination prefixes.</summary>
internal sealed class PoolForwarding(HttpMessageInvoker invoker, ForwarderRequestConfig requestConfig, Dictionary<UpstreamTarget, string> destinations)
{
    public HttpMessageInvoker Invoker { get; } = invoker;

    public ForwarderRequestConfig RequestConfig { get; } = requestConfig;

    /// <summary><c>http://host:port</c> per target, built once so the request path allocates none.</summary>
    public Dictionary<UpstreamTarget, string> Destinations { get; } = destinations;
}
