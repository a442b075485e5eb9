using Lb.Balancing;
using Lb.Core.Node;
using Lb.Core.Options;
using Microsoft.Extensions.Options;
using Lb.Core.Spec;
using Lb.Routing;

namespace Lb.AspNetCore.Runtime;

/// <summary>
/// Composes the transport-neutral runtime of one desired-state version: compiles the routes (Lb.Routing),
/// reconciles the upstream registry (Lb.Balancing; surviving targets keep health and counters) and asks each
/// route's policy for its balancer and inputs. The only place where routing and balancing meet.
/// </summary>
internal sealed class RuntimeSnapshotBuilder(UpstreamRegistry registry, LoadBalancingPolicies policies, IOptions<LbNodeOptions>? node = null)
{
    // The key behind sticky-cookie values: the cluster's replicated secret, else this node's persisted one (so cookies
    // survive restarts and, in a cluster, a failover to another node).
    private string? _stickySecret;
    private string? _localSecret;

    // The route table of the last build: the next one takes its compiled regexes instead of building them again.
    private RouteTable? _previousRoutes;

    /// <summary>Builds the snapshot of <paramref name="state"/>. Called by one thread at a time (the runtime manager's).</summary>
    /// <exception cref="KeyNotFoundException">A route names a policy this node does not have (possible when another node validated the state).</exception>
    public RuntimeSnapshot Build(VersionedDesiredState state)
    {
        var config = state.State.Config;
        UseStickySecret(state.State.StickySecret);
        var routes = RouteTable.Compile(config, _previousRoutes);
        var upstreams = registry.Apply(config);
        var poolIndex = new Dictionary<string, int>(upstreams.Pools.Count, StringComparer.Ordinal);
        foreach (var id in upstreams.Pools.Keys)
        {
            poolIndex[id] = poolIndex.Count;
        }

        var runtimes = new RouteRuntime[routes.Routes.Count];
        for (var i = 0; i < runtimes.Length; i++)
        {
            var route = routes.Routes[i];
            if (!upstreams.TryGetPool(route.UpstreamPool, out var pool))
            {
                runtimes[i] = new RouteRuntime(route, null, -1, null, PickInputs.None);
                continue;
            }
            var policy = policies.Get(route.Spec);
            runtimes[i] = new RouteRuntime(route, pool, poolIndex[pool.Id], policy.CreateBalancer(route.Spec, pool), policy.GetInputs(route.Spec));
        }
        _previousRoutes = routes;
        var tcp = L4.TcpListenerRuntime.Compile(config, upstreams, policies);
        return new RuntimeSnapshot(state, routes, upstreams, runtimes, tcp);
    }

    private void UseStickySecret(string? replicated)
    {
        var secret = replicated;
        if (!StickySecretFile.TryDecode(secret, out _))
        {
            // Standalone (or a cluster from before the secret existed): this node's own secret, read once.
            secret = _localSecret ??= LoadLocalSecret();
        }
        if (secret is null || secret == _stickySecret || !StickySecretFile.TryDecode(secret, out var key))
        {
            return;
        }
        registry.UseStickyKey(key);
        _stickySecret = secret;
    }

    private string? LoadLocalSecret()
    {
        if (node?.Value.DataDir is not { Length: > 0 } dataDir)
        {
            return null;
        }
        try
        {
            return StickySecretFile.LoadOrCreate(dataDir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The registry's per-process key stays: cookies then last until the next restart.
            return "";
        }
    }
}
