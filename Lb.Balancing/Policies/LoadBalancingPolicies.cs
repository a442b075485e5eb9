using Lb.Core.Spec;
using Lb.Core.Validation;

namespace Lb.Balancing;

/// <summary>
/// The policies known to the process, by name. With dependency injection it receives every registered
/// <see cref="ILoadBalancingPolicy"/> (<c>builder.AddBalancingPolicy&lt;MyPolicy&gt;()</c>) and is what validation
/// asks (<see cref="IAlgorithmRules"/>), so a registered name is accepted wherever the desired state is validated.
/// When two policies share a name the one registered last wins.
/// </summary>
public sealed class LoadBalancingPolicies : IAlgorithmRules
{
    private readonly Dictionary<string, ILoadBalancingPolicy> _byName = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];

    /// <summary>Creates the lookup over <paramref name="policies"/>.</summary>
    public LoadBalancingPolicies(IEnumerable<ILoadBalancingPolicy> policies)
    {
        ArgumentNullException.ThrowIfNull(policies);
        foreach (var policy in policies)
        {
            if (!_byName.ContainsKey(policy.Name))
            {
                _names.Add(policy.Name);
            }
            _byName[policy.Name] = policy;
        }
    }

    /// <summary>The built-in policies, for use without dependency injection.</summary>
    public static LoadBalancingPolicies CreateDefault() =>
        new([new RoundRobinPolicy(), new StickyCookiePolicy(), new FiveTupleHashPolicy(), new LeastConnectionPolicy(),
            new SourceHashPolicy(), new UriHashPolicy(), new UrlParamHashPolicy(), new HeaderHashPolicy(), new RandomPolicy()]);

    /// <summary>The registered names, in registration order.</summary>
    public IReadOnlyCollection<string> Names => _names;

    /// <inheritdoc />
    public bool IsKnown(string name) => name is not null && _byName.ContainsKey(name);

    /// <summary>Finds a policy by name.</summary>
    public bool TryGet(string name, out ILoadBalancingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.TryGetValue(name, out policy!);
    }

    /// <summary>
    /// The route's policy judges the settings it reads; <c>sticky_cookie</c> options (the cookie's attributes) are
    /// allowed only on routes whose policy declares a cookie.
    /// </summary>
    public void ValidateRoute(RouteSpec route, string path, ICollection<ValidationError> errors)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(errors);
        if (!_byName.TryGetValue(route.EffectiveAlgorithm, out var policy))
        {
            return;
        }
        if (route.StickyCookie is not null && policy.GetInputs(route).CookieName is null)
        {
            var cookiePolicies = string.Join(", ", _names.Where(n => _byName[n].GetInputs(route).CookieName is not null));
            errors.Add(new ValidationError($"{path}.sticky_cookie", ValidationCodes.InvalidStickyCookie,
                $"sticky_cookie options are only allowed on routes whose algorithm uses a cookie ({cookiePolicies})",
                $"set algorithm to {(cookiePolicies.Length > 0 ? cookiePolicies : "a cookie policy")} or remove sticky_cookie"));
        }
        if (route.HashKey is not null && policy.GetInputs(route) is { HeaderName: null, Query: false })
        {
            errors.Add(new ValidationError($"{path}.hash_key", ValidationCodes.InvalidHashKey,
                $"hash_key is only used by algorithms that hash a header or query parameter ({Algorithms.Header}, {Algorithms.UrlParam})",
                "remove hash_key, or set algorithm to hdr or url_param"));
        }
        policy.Validate(route, path, errors);
    }

    /// <summary>
    /// Creates the balancer of <paramref name="route"/> (algorithm <see cref="RouteSpec.EffectiveAlgorithm"/>)
    /// over <paramref name="pool"/>.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No policy has that name.</exception>
    public IRouteBalancer CreateBalancer(RouteSpec route, UpstreamPool pool)
    {
        ArgumentNullException.ThrowIfNull(route);
        return Get(route).CreateBalancer(route, pool);
    }

    /// <summary>The policy of <paramref name="route"/> (algorithm <see cref="RouteSpec.EffectiveAlgorithm"/>).</summary>
    /// <exception cref="KeyNotFoundException">No policy has that name.</exception>
    public ILoadBalancingPolicy Get(RouteSpec route)
    {
        ArgumentNullException.ThrowIfNull(route);
        var name = route.EffectiveAlgorithm;
        return TryGet(name, out var policy)
            ? policy
            : throw new KeyNotFoundException($"no load balancing policy is registered as '{name}' on this node (route '{route.Id}')");
    }
}
