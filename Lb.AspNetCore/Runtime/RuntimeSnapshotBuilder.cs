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

    // The last build: the next one takes its compiled routes (and their regexes), and the per-route runtime of every
    // route it takes over whose pool did not change, instead of building them again.
    private RouteTable? _previousRoutes;
    private RouteRuntime[] _previousRuntimes = [];
    private UpstreamSnapshot? _previousUpstreams;
    private Dictionary<string, int>? _previousPoolIndex;

    /// <summary>Builds the snapshot of <paramref name="state"/>. Called by one thread at a time (the runtime manager's).</summary>
    /// <exception cref="KeyNotFoundException">A route names a policy this node does not have (possible when another node validated the state).</exception>
    public RuntimeSnapshot Build(VersionedDesiredState state)
    {
        var config = state.State.Config;
        UseStickySecret(state.State.StickySecret);
        var routes = RouteTable.Compile(config, _previousRoutes);
        var upstreams = registry.Apply(config);
        var (poolIndex, samePools) = IndexPools(upstreams);

        var runtimes = new RouteRuntime[routes.SlotCount];
        var previous = _previousRuntimes;
        foreach (var route in routes.Routes)
        {
            // A route taken over from the last table keeps its slot; its runtime stays valid while its pool does.
            if (route.Slot < previous.Length && previous[route.Slot] is { } kept && ReferenceEquals(kept.Route, route)
                && (samePools || (kept.Pool is { } keptPool && upstreams.TryGetPool(route.UpstreamPool, out var now) && ReferenceEquals(now, keptPool) && poolIndex[keptPool.Id] == kept.PoolIndex)))
            {
                runtimes[route.Slot] = kept;
                continue;
            }
            if (!upstreams.TryGetPool(route.UpstreamPool, out var pool))
            {
                runtimes[route.Slot] = new RouteRuntime(route, null, -1, null, PickInputs.None);
                continue;
            }
            var policy = policies.Get(route.Spec);
            runtimes[route.Slot] = new RouteRuntime(route, pool, poolIndex[pool.Id], policy.CreateBalancer(route.Spec, pool), policy.GetInputs(route.Spec));
        }
        _previousRoutes = routes;
        _previousRuntimes = runtimes;
        _previousUpstreams = upstreams;
        _previousPoolIndex = poolIndex;
        var tcp = L4.TcpListenerRuntime.Compile(config, upstreams, policies);
        return new RuntimeSnapshot(state, routes, upstreams, runtimes, tcp);
    }

    /// <summary>
    /// Each pool's position in the snapshot's pool order, and whether every pool is the very instance of the last
    /// build at the same position (then every kept route runtime is still right about its pool).
    /// </summary>
    private (Dictionary<string, int> Index, bool Same) IndexPools(UpstreamSnapshot upstreams)
    {
        if (_previousUpstreams is { } last && _previousPoolIndex is { } lastIndex && last.Pools.Count == upstreams.Pools.Count)
        {
            var same = true;
            using var a = last.Pools.GetEnumerator();
            foreach (var (id, pool) in upstreams.Pools)
            {
                if (!a.MoveNext() || !ReferenceEquals(a.Current.Value, pool) || !string.Equals(a.Current.Key, id, StringComparison.Ordinal))
                {
                    same = false;
                    break;
                }
            }
            if (same)
            {
                return (lastIndex, true);
            }
            if (last.Pools.Keys.SequenceEqual(upstreams.Pools.Keys, StringComparer.Ordinal))
            {
                return (lastIndex, false);
            }
        }
        var index = new Dictionary<string, int>(upstreams.Pools.Count, StringComparer.Ordinal);
        foreach (var id in upstreams.Pools.Keys)
        {
            index[id] = index.Count;
        }
        return (index, false);
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
