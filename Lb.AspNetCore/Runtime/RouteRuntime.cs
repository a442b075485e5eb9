using Lb.Balancing;
using Lb.Routing;

namespace Lb.AspNetCore.Runtime;

/// <summary>What serving one route needs, prepared once per snapshot.</summary>
internal sealed class RouteRuntime(CompiledRoute route, UpstreamPool? pool, int poolIndex, IRouteBalancer? balancer, PickInputs inputs)
{
    public CompiledRoute Route { get; } = route;

    /// <summary>The route's pool; null when the configuration names a pool that does not exist.</summary>
    public UpstreamPool? Pool { get; } = pool;

    /// <summary>Index of <see cref="Pool"/> in <see cref="RuntimeSnapshot.Pools"/>; -1 without a pool.</summary>
    public int PoolIndex { get; } = poolIndex;

    /// <summary>Null exactly when <see cref="Pool"/> is.</summary>
    public IRouteBalancer? Balancer { get; } = balancer;

    /// <summary>What the balancer reads from a request, as its policy declared; the transport fetches only this.</summary>
    public PickInputs Inputs { get; } = inputs;

    /// <summary>The route's <c>connect_timeout</c>, else the pool's.</summary>
    public TimeSpan ConnectTimeout { get; } = route.Spec.ConnectTimeout?.Positive ?? pool?.ConnectTimeout ?? UpstreamPool.DefaultConnectTimeout;

    /// <summary>The route's <c>server_timeout</c>, else the pool's <c>response_timeout</c>.</summary>
    public TimeSpan ServerTimeout { get; } = route.Spec.ServerTimeout?.Positive ?? pool?.ResponseTimeout ?? UpstreamPool.DefaultResponseTimeout;

    /// <summary>The route's <c>client_timeout</c>; zero when it has none (the listener's minimum data rate applies).</summary>
    public TimeSpan ClientTimeout { get; } = route.Spec.ClientTimeout?.Positive ?? TimeSpan.Zero;

    /// <summary>The route's <c>max_request_body_size</c>; null: the listener's limit.</summary>
    public long? MaxRequestBodySize { get; } = route.Spec.MaxRequestBodySize;

    /// <summary>The route's <c>max_request_header_count</c>; 0: the listener's limit only.</summary>
    public int MaxRequestHeaderCount { get; } = route.Spec.MaxRequestHeaderCount ?? 0;

    /// <summary>The route's <c>max_request_headers_size</c>; 0: the listener's limit only.</summary>
    public int MaxRequestHeadersSize { get; } = route.Spec.MaxRequestHeadersSize ?? 0;

    /// <summary>True when the route limits the request head beyond the listener (then the transport checks it after routing).</summary>
    public bool ChecksHeaders => MaxRequestHeaderCount > 0 || MaxRequestHeadersSize > 0;
}
