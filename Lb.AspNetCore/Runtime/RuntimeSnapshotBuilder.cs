using Lb.Balancing;
using Lb.Core.Spec;
using Lb.Routing;

namespace Lb.AspNetCore.Runtime;

/// <summary>
/// Composes the transport-neutral runtime of one desired-state version: compiles the routes (Lb.Routing),
/// reconciles the upstream registry (Lb.Balancing; surviving targets keep health and counters) and asks each
/// route's policy for its balancer and inputs. The only place where routing and balancing meet.
/// </summary>
internal sealed class RuntimeSnapshotBuilder(UpstreamRegistry registry, LoadBalancingPolicies policies)
{
    /// <summary>Builds the snapshot of <paramref name="state"/>.</summary>
    /// <exception cref="KeyNotFoundException">A route names a policy this node does not have (possible when another node validated the state).</exception>
    public RuntimeSnapshot Build(VersionedDesiredState state)
    {
        var config = state.State.Config;
        var routes = RouteTable.Compile(config);
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
        var tcp = L4.TcpListenerRuntime.Compile(config, upstreams, policies);
        return new RuntimeSnapshot(state.Version, state.AppliedAt, config, state.ContentHash, routes, upstreams, runtimes, tcp);
    }
}
