using Lb.Core.Spec;
using Lb.Core.Validation;

namespace Lb.Balancing;

/// <summary>
/// A balancing algorithm, registered by <see cref="Name"/> (the route's <c>algorithm</c>). It owns everything about
/// the algorithm: the name validation accepts, the rules for the route settings it reads, what it reads from a
/// request and the balancers. Implementations are stateless singletons; per-route state lives in the balancers.
/// Register your own with <c>builder.AddBalancingPolicy&lt;MyPolicy&gt;()</c>.
/// </summary>
public interface ILoadBalancingPolicy
{
    /// <summary>The algorithm name, e.g. <c>round_robin</c>.</summary>
    string Name { get; }

    /// <summary>What the balancers of <paramref name="route"/> read from a request. Called once per route per build.</summary>
    PickInputs GetInputs(RouteSpec route) => PickInputs.None;

    /// <summary>
    /// Adds the problems of the settings of <paramref name="route"/> that this policy reads (field paths start with
    /// <paramref name="path"/>, e.g. <c>routes[2]</c>). Runs wherever the desired state is validated, before anything
    /// is stored. Must not throw.
    /// </summary>
    void Validate(RouteSpec route, string path, ICollection<ValidationError> errors)
    {
    }

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
