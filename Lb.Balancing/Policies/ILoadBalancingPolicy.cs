using Lb.Core.Spec;

namespace Lb.Balancing;

/// <summary>
/// A balancing algorithm, registered by <see cref="Name"/> (the route's <c>algorithm</c>). Implementations are
/// stateless singletons; per-route state lives in the balancers they create.
/// </summary>
public interface ILoadBalancingPolicy
{
    /// <summary>The algorithm name, e.g. <c>round_robin</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Creates the balancer of one route over one pool. Cheap enough to call for every route whenever a new
    /// <see cref="UpstreamSnapshot"/> is applied. The balancer reads the live target state, so it keeps working
    /// while health changes; create a new one for the pool object of the next snapshot.
    /// </summary>
    IRouteBalancer CreateBalancer(RouteSpec route, UpstreamPool pool);
}

/// <summary>Picks targets for one route. Thread-safe, lock-free and allocation-free.</summary>
public interface IRouteBalancer
{
    /// <summary>
    /// Picks an available target. When <see cref="PickResult.Target"/> is not null one in-flight request has
    /// been counted on it, and the caller must call <see cref="UpstreamTarget.Complete"/> exactly once.
    /// </summary>
    PickResult Pick(in PickContext context);
}
