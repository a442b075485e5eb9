using Lb.Balancing;
using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Routing;

namespace Lb.AspNetCore.Runtime;

/// <summary>
/// Everything a transport needs to serve one configuration version, immutable once published: the route table,
/// the upstream pools (whose targets carry live health and counters) and, per route, its balancer and what that
/// balancer reads. Transport-neutral: no HTTP client, forwarder or cookie code lives here, so the HTTP proxy and a
/// TCP listener read the same snapshot and attach their own data per pool (<see cref="IRuntimeAttachment"/>).
/// A request or connection reads it once and keeps it to the end.
/// </summary>
internal sealed class RuntimeSnapshot
{
    private readonly VersionedDesiredState? _state;
    private readonly string? _contentHash;

    /// <summary>
    /// Shares the state's hash (<see cref="VersionedDesiredState.ContentHash"/>, computed once with the state on first
    /// use): hashing a large configuration costs as much as compiling it, and only status readers need it.
    /// </summary>
    public RuntimeSnapshot(VersionedDesiredState state, RouteTable routes, UpstreamSnapshot upstreams, RouteRuntime[] routeRuntimes, L4.TcpListenerRuntime[]? tcpListeners = null)
        : this(state.Version, state.AppliedAt, state.State.Config, null, routes, upstreams, routeRuntimes, tcpListeners) => _state = state;

    private RuntimeSnapshot(long version, DateTimeOffset appliedAt, ProxyConfig config, string? contentHash, RouteTable routes, UpstreamSnapshot upstreams, RouteRuntime[] routeRuntimes, L4.TcpListenerRuntime[]? tcpListeners = null)
    {
        Version = version;
        AppliedAt = appliedAt;
        Config = config;
        _contentHash = contentHash;
        Routes = routes;
        Upstreams = upstreams;
        Pools = [.. upstreams.Pools.Values];
        RouteRuntimes = routeRuntimes;
        TcpListeners = tcpListeners ?? [];
    }

    public static RuntimeSnapshot Empty { get; } = new(-1, DateTimeOffset.MinValue, ProxyConfig.Empty, DesiredStateJson.ContentHash(ProxyConfig.Empty), RouteTable.Empty, UpstreamSnapshot.Empty, []);

    public long Version { get; }

    public DateTimeOffset AppliedAt { get; }

    public ProxyConfig Config { get; }

    public string ContentHash => _contentHash ?? _state!.ContentHash;

    public RouteTable Routes { get; }

    public UpstreamSnapshot Upstreams { get; }

    /// <summary>The pools in ordinal id order; <see cref="RouteRuntime.PoolIndex"/> indexes it, and so do transports' side tables.</summary>
    public UpstreamPool[] Pools { get; }

    /// <summary><see cref="RouteTable.SlotCount"/> entries: index with <see cref="CompiledRoute.Slot"/> (a slot no route of the table has is null).</summary>
    public RouteRuntime[] RouteRuntimes { get; }

    /// <summary>The enabled TCP listeners, compiled over <see cref="Pools"/>.</summary>
    public L4.TcpListenerRuntime[] TcpListeners { get; }

    public (int Total, int Healthy) CountTargets()
    {
        int total = 0, healthy = 0;
        foreach (var pool in Pools)
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
