using Lb.Balancing.Policies;
using Lb.Balancing.Registry;
using Lb.Core.Spec;
using Lb.Core.Validation;

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

    /// <summary>Reads the route's cookie, <see cref="StickyCookies.CookieName"/>.</summary>
    public PickInputs GetInputs(RouteSpec route)
    {
        ArgumentNullException.ThrowIfNull(route);
        return new PickInputs { CookieName = StickyCookies.CookieName(route.Id) };
    }

    /// <summary>Checks the cookie options: <c>value</c> mode, <c>same_site</c> (none needs secure) and <c>max_age</c>.</summary>
    public void Validate(RouteSpec route, string path, ICollection<ValidationError> errors)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(errors);
        if (route.StickyCookie is not { } sticky)
        {
            return;
        }
        var at = path + ".sticky_cookie";
        if (sticky.Value is { } v && v != StickyCookieValueModes.Opaque && v != StickyCookieValueModes.Address)
        {
            errors.Add(new ValidationError($"{at}.value", ValidationCodes.InvalidStickyCookie, "value must be one of: opaque, address", "opaque hides backend addresses; address is the reference's behaviour"));
        }
        if (sticky.SameSite is { } s && s is not ("lax" or "strict" or "none"))
        {
            errors.Add(new ValidationError($"{at}.same_site", ValidationCodes.InvalidStickyCookie, "same_site must be one of: lax, strict, none", "omit it to send no SameSite attribute"));
        }
        else if (sticky.SameSite == "none" && !sticky.Secure)
        {
            errors.Add(new ValidationError($"{at}.same_site", ValidationCodes.InvalidStickyCookie, "same_site none requires secure", "set secure to true; browsers drop SameSite=None cookies without Secure"));
        }
        if (sticky.MaxAge is { } maxAge)
        {
            if (!maxAge.IsValid)
            {
                errors.Add(new ValidationError($"{at}.max_age", ValidationCodes.InvalidDuration, "invalid duration: " + maxAge.Error, "use a Go duration such as \"500ms\", \"5s\" or \"1m30s\""));
            }
            else if (maxAge.Value <= TimeSpan.Zero)
            {
                errors.Add(new ValidationError($"{at}.max_age", ValidationCodes.NonPositiveDuration, "duration must be positive", "use a value above zero, such as \"5s\""));
            }
        }
    }

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
            if (context.CookieValue is { } value
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
