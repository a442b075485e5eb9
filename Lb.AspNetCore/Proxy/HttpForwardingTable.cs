using Lb.AspNetCore.Runtime;
using Lb.Balancing;
using Yarp.ReverseProxy.Forwarder;

namespace Lb.AspNetCore.Proxy;

/// <summary>
/// The HTTP proxy's side table: per pool of the current snapshot, the shared connection pool, the forwarder's
/// request settings and each target's destination prefix. Published together with the snapshot it was built for,
/// so one volatile read gives a request a consistent pair.
/// </summary>
internal sealed class HttpForwardingTable : IRuntimeAttachment, IDisposable
{
    private static readonly TimeSpan SweepPeriod = TimeSpan.FromSeconds(30);

    private readonly PoolClients _clients = new();
    private readonly ITimer _sweep;
    private HttpRuntime _current = new(RuntimeSnapshot.Empty, [], [], new HashSet<string>());

    public HttpForwardingTable(TimeProvider time)
    {
        // Retired pools are disposed once idle; requests on them may still be running when their snapshot is replaced.
        _sweep = time.CreateTimer(_ => Sweep(), null, SweepPeriod, SweepPeriod);
    }

    public HttpRuntime Current => Volatile.Read(ref _current);

    public Action Prepare(RuntimeSnapshot next)
    {
        var pools = new PoolForwarding[next.Pools.Length];
        var liveKeys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < pools.Length; i++)
        {
            var pool = next.Pools[i];
            var destinations = new Dictionary<UpstreamTarget, string>(pool.Targets.Count);
            foreach (var target in pool.Targets)
            {
                destinations[target] = target.Host.Contains(':', StringComparison.Ordinal) ? $"http://[{target.Host}]:{target.Port}" : $"http://{target.Host}:{target.Port}";
            }
            var requestConfig = new ForwarderRequestConfig { ActivityTimeout = pool.ResponseTimeout, AllowResponseBuffering = false };
            pools[i] = new PoolForwarding(_clients.Get(pool), requestConfig, destinations);
            liveKeys.Add(PoolClients.Key(pool, null));
        }
        // Routes that override the pool's timeouts get their own request settings (and, for connect_timeout, their own handler).
        var routes = new PoolForwarding?[next.RouteRuntimes.Length];
        for (var r = 0; r < routes.Length; r++)
        {
            // Indexed by route slot: a slot freed by a removed route is empty.
            if (next.RouteRuntimes[r] is not { Pool: { } pool } rt || (rt.Route.Spec.ConnectTimeout is null && rt.Route.Spec.ServerTimeout is null))
            {
                continue;
            }
            var shared = pools[rt.PoolIndex];
            TimeSpan? connect = rt.Route.Spec.ConnectTimeout is null ? null : rt.ConnectTimeout;
            var invoker = connect is null ? shared.Invoker : _clients.Get(pool, connect);
            liveKeys.Add(PoolClients.Key(pool, connect));
            routes[r] = new PoolForwarding(invoker, new ForwarderRequestConfig { ActivityTimeout = rt.ServerTimeout, AllowResponseBuffering = false }, shared.Destinations);
        }
        var prepared = new HttpRuntime(next, pools, routes, liveKeys);
        return () =>
        {
            Volatile.Write(ref _current, prepared);
            Sweep();
        };
    }

    public void Dispose()
    {
        _sweep.Dispose();
        _clients.Dispose();
    }

    private void Sweep() => _clients.Sweep(Current.LiveClientKeys);
}

/// <summary>A runtime snapshot with the HTTP forwarding data of its pools (parallel to <see cref="RuntimeSnapshot.Pools"/>).</summary>
internal sealed class HttpRuntime(RuntimeSnapshot snapshot, PoolForwarding[] pools, PoolForwarding?[] routes, IReadOnlySet<string> liveClientKeys)
{
    public RuntimeSnapshot Snapshot { get; } = snapshot;

    public PoolForwarding[] Pools { get; } = pools;

    /// <summary>Parallel to <see cref="RuntimeSnapshot.RouteRuntimes"/>: the forwarding of a route that overrides its pool's timeouts, else null.</summary>
    public PoolForwarding?[] Routes { get; } = routes;

    /// <summary>The handler keys this runtime uses; the others are retired.</summary>
    public IReadOnlySet<string> LiveClientKeys { get; } = liveClientKeys;
}

/// <summary>Forwarding resources of one pool: the shared connection pool and per-target destination prefixes.</summary>
internal sealed class PoolForwarding(HttpMessageInvoker invoker, ForwarderRequestConfig requestConfig, Dictionary<UpstreamTarget, string> destinations)
{
    public HttpMessageInvoker Invoker { get; } = invoker;

    public ForwarderRequestConfig RequestConfig { get; } = requestConfig;

    /// <summary><c>http://host:port</c> per target, built once so the request path allocates none.</summary>
    public Dictionary<UpstreamTarget, string> Destinations { get; } = destinations;
}
