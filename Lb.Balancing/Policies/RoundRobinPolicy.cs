using Lb.Balancing.Policies;
using Lb.Balancing.Registry;
using Lb.Core.Spec;

namespace Lb.Balancing;

/// <summary>
/// <c>round_robin</c>: smooth weighted round robin over the available targets. One counter per route
/// (the reference shares one per pool, contract §13.16), advanced with a single interlocked increment, so
/// concurrent callers each get their own position and the split is exact.
/// </summary>
public sealed class RoundRobinPolicy : ILoadBalancingPolicy
{
    /// <inheritdoc />
    public string Name => Algorithms.RoundRobin;

    /// <inheritdoc />
    public IRouteBalancer CreateBalancer(RouteSpec route, UpstreamPool pool)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(pool);
        return new Balancer(pool, pool.GetRouteCounter(route.Id));
    }

    private sealed class Balancer(UpstreamPool pool, RouteCounter counter) : IRouteBalancer
    {
        public PickResult Pick(in PickContext context) =>
            new(Picking.RoundRobin(pool, counter, context.Exclude));
    }
}
