using System.Net;
using Lb.Balancing;
using Lb.Core.Spec;

namespace Lb.AspNetCore.L4;

/// <summary>What serving one TCP listener needs, compiled once per snapshot from its spec and pool.</summary>
internal sealed class TcpListenerRuntime
{
    public TcpListenerRuntime(TcpListenerSpec spec, string host, int port, UpstreamPool? pool, IRouteBalancer? balancer)
    {
        Spec = spec;
        Host = host;
        Port = port;
        Pool = pool;
        Balancer = balancer;
        ConnectTimeout = spec.ConnectTimeout is { } ct && GoDuration.TryParse(ct, out var c, out _) ? c : pool?.ConnectTimeout ?? UpstreamPool.DefaultConnectTimeout;
        IdleTimeout = spec.IdleTimeout is { } it && GoDuration.TryParse(it, out var i, out _) ? i : TcpListenerSpec.DefaultIdleTimeout;
        MaxConnections = spec.MaxConnections ?? TcpListenerSpec.DefaultMaxConnections;
    }

    public TcpListenerSpec Spec { get; }

    public string Id => Spec.Id;

    /// <summary>Canonical listen host (<see cref="TcpListenAddress"/>), with <see cref="Port"/> the identity of the socket.</summary>
    public string Host { get; }

    public int Port { get; }

    /// <summary>Null when the spec names a pool that does not exist (possible when another node validated the state).</summary>
    public UpstreamPool? Pool { get; }

    public IRouteBalancer? Balancer { get; }

    public TimeSpan ConnectTimeout { get; }

    public TimeSpan IdleTimeout { get; }

    public int MaxConnections { get; }

    /// <summary>The endpoint to bind: <c>*</c> is every interface (IPv6 dual-stack), <c>localhost</c> the IPv4 loopback.</summary>
    public EndPoint BindEndPoint => Host switch
    {
        TcpListenAddress.AnyHost => new IPEndPoint(IPAddress.IPv6Any, Port),
        "localhost" => new IPEndPoint(IPAddress.Loopback, Port),
        _ => new IPEndPoint(IPAddress.Parse(Host), Port),
    };

    /// <summary>Compiles the enabled listeners of <paramref name="config"/> over the snapshot's pools.</summary>
    public static TcpListenerRuntime[] Compile(ProxyConfig config, UpstreamSnapshot upstreams, LoadBalancingPolicies policies)
    {
        if (config.TcpListeners is not { Count: > 0 } specs)
        {
            return [];
        }
        var result = new List<TcpListenerRuntime>(specs.Count);
        foreach (var spec in specs)
        {
            if (!spec.Enabled || !TcpListenAddress.TryParse(spec.Listen, out var host, out var port, out _))
            {
                continue;
            }
            upstreams.TryGetPool(spec.UpstreamPool, out var pool);
            result.Add(new TcpListenerRuntime(spec, host, port, pool, pool is null ? null : CreateBalancer(spec, pool, policies)));
        }
        return [.. result];
    }

    /// <summary>
    /// The listener's balancer from the shared policy registry, built over a route-shaped spec so per-route state
    /// (rotation counters) is keyed by the listener. <c>source</c> comes from the registry when a policy of that
    /// name is registered, otherwise from <see cref="SourceHashBalancer"/>.
    /// </summary>
    private static IRouteBalancer CreateBalancer(TcpListenerSpec spec, UpstreamPool pool, LoadBalancingPolicies policies)
    {
        var route = new RouteSpec { Id = "tcp:" + spec.Id, Enabled = true, Algorithm = spec.EffectiveAlgorithm, UpstreamPool = spec.UpstreamPool };
        if (policies.TryGet(spec.EffectiveAlgorithm, out var policy))
        {
            return policy.CreateBalancer(route, pool);
        }
        return spec.EffectiveAlgorithm == TcpAlgorithms.Source
            ? new SourceHashBalancer(pool)
            : throw new KeyNotFoundException($"no load balancing policy is registered as '{spec.EffectiveAlgorithm}' on this node (tcp listener '{spec.Id}')");
    }
}
