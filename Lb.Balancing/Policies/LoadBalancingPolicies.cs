using Lb.Balancing.Policies;
using Lb.Core.Spec;

namespace Lb.Balancing;

/// <summary>
/// The policies known to the process, by name. With dependency injection it receives every registered
/// <see cref="ILoadBalancingPolicy"/>; register your own with
/// <c>services.TryAddEnumerable(ServiceDescriptor.Singleton&lt;ILoadBalancingPolicy, MyPolicy&gt;())</c>.
/// When two policies share a name the one registered last wins.
/// </summary>
public sealed class LoadBalancingPolicies
{
    private readonly Dictionary<string, ILoadBalancingPolicy> _byName = new(StringComparer.Ordinal);

    /// <summary>Creates the lookup over <paramref name="policies"/>.</summary>
    public LoadBalancingPolicies(IEnumerable<ILoadBalancingPolicy> policies)
    {
        ArgumentNullException.ThrowIfNull(policies);
        foreach (var policy in policies)
        {
            _byName[policy.Name] = policy;
        }
    }

    /// <summary>The four built-in policies, for use without dependency injection.</summary>
    public static LoadBalancingPolicies CreateDefault() =>
        new([new RoundRobinPolicy(), new StickyCookiePolicy(), new FiveTupleHashPolicy(), new LeastConnectionPolicy()]);

    /// <summary>The registered names.</summary>
    public IReadOnlyCollection<string> Names => _byName.Keys;

    /// <summary>Finds a policy by name.</summary>
    public bool TryGet(string name, out ILoadBalancingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.TryGetValue(name, out policy!);
    }

    /// <summary>
    /// Creates the balancer of <paramref name="route"/> (algorithm <see cref="RouteSpec.EffectiveAlgorithm"/>)
    /// over <paramref name="pool"/>.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No policy has that name.</exception>
    public IRouteBalancer CreateBalancer(RouteSpec route, UpstreamPool pool)
    {
        ArgumentNullException.ThrowIfNull(route);
        var name = route.EffectiveAlgorithm;
        return TryGet(name, out var policy)
            ? policy.CreateBalancer(route, pool)
            : throw new KeyNotFoundException($"no load balancing policy is registered as '{name}'");
    }
}
