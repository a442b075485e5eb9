using Lb.Balancing.Policies;
using Lb.Balancing.Registry;
using Lb.Core.Spec;

namespace Lb.Balancing;

/// <summary>
/// <c>sticky_cookie</c>: a client that presents the cookie of an available target goes there, with no
/// <c>Set-Cookie</c>; otherwise the route's weighted round robin picks and the result carries the new cookie
/// value. The value is an opaque keyed hash of pool id and address by default (the reference puts the address
/// itself in the cookie, contract §13.15); <c>sticky_cookie.value: address</c> restores the reference format.
/// </summary>
public sealed class StickyCookiePolicy : ILoadBalancingPolicy
{
    /// <inheritdoc />
    public string Name => Algorithms.StickyCookie;

    /// <inheritdoc />
    public IRouteBalancer CreateBalancer(RouteSpec route, UpstreamPool pool)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(pool);
        var byAddress = route.StickyCookie?.Value == StickyCookieValueModes.Address;
        var lookup = new Dictionary<string, UpstreamTarget>(pool.TargetArray.Length, StringComparer.Ordinal);
        foreach (var target in pool.TargetArray)
        {
            // First exact match wins, as in the contract.
            lookup.TryAdd(byAddress ? target.Address : target.OpaqueToken, target);
        }
        return new Balancer(pool, pool.GetRouteCounter(route.Id), lookup, byAddress);
    }

    private sealed class Balancer(UpstreamPool pool, RouteCounter counter, Dictionary<string, UpstreamTarget> lookup, bool byAddress) : IRouteBalancer
    {
        public PickResult Pick(in PickContext context)
        {
            if (context.StickyCookieValue is { } value
                && lookup.TryGetValue(value, out var pinned)
                && !ReferenceEquals(pinned, context.Exclude)
                && pinned.IsAvailable)
            {
                pinned.Acquire();
                return new PickResult(pinned);
            }
            var target = Picking.RoundRobin(pool, counter, context.Exclude);
            return target is null
                ? PickResult.None
                : new PickResult(target, byAddress ? target.Address : target.OpaqueToken);
        }
    }
}
