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
        return new PickInputs { CookieName = StickyCookies.EffectiveName(route) };
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
        var mode = sticky.Mode ?? StickyCookieModes.Insert;
        if (mode is not (StickyCookieModes.Insert or StickyCookieModes.Prefix or StickyCookieModes.Rewrite))
        {
            errors.Add(new ValidationError($"{at}.mode", ValidationCodes.InvalidStickyCookie, "mode must be one of: insert, prefix, rewrite", "omit it for insert (Lb's own cookie)"));
        }
        else if (mode != StickyCookieModes.Insert && string.IsNullOrEmpty(sticky.Name))
        {
            errors.Add(new ValidationError($"{at}.name", ValidationCodes.InvalidStickyCookie, $"mode {mode} needs name: the cookie the application sets",
                mode == StickyCookieModes.Prefix ? "for example \"name\": \"JSESSIONID\"" : "for example \"name\": \"SERVERID\""));
        }
        if (sticky.Name is { Length: > 0 } name && !name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal)))
        {
            errors.Add(new ValidationError($"{at}.name", ValidationCodes.InvalidStickyCookie, "name must be a cookie name (letters, digits and !#$%&'*+-.^_`|~)", "for example \"SERVERID\""));
        }
        if (mode != StickyCookieModes.Insert && sticky.MaxAge is not null)
        {
            errors.Add(new ValidationError($"{at}.max_age", ValidationCodes.InvalidStickyCookie, "max_age applies to insert mode only", "the application's own cookie keeps the lifetime it sets"));
        }
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
        var mode = route.StickyCookie?.Mode ?? StickyCookieModes.Insert;
        return new Balancer(pool, pool.GetRouteCounter(route.Id), lookup, byAddress, mode);
    }

    private sealed class Balancer(UpstreamPool pool, RouteCounter counter, Dictionary<string, UpstreamTarget> lookup, bool byAddress, string mode) : IRouteBalancer
    {
        // prefix and rewrite re-key every response that sets the application's cookie, so every pick carries the key.
        private readonly bool _alwaysKey = mode != StickyCookieModes.Insert;

        public PickResult Pick(in PickContext context)
        {
            var value = _alwaysKey && mode == StickyCookieModes.Prefix ? StickyCookies.PrefixKey(context.CookieValue) : context.CookieValue;
            if (value is not null
                && lookup.TryGetValue(value, out var pinned)
                && !ReferenceEquals(pinned, context.Exclude)
                && pinned.AdmitsPinned
                && pinned.TryAcquire())
            {
                return _alwaysKey ? new PickResult(pinned, Key(pinned)) : new PickResult(pinned);
            }
            var target = Picking.RoundRobin(pool, counter, context.Exclude);
            return target is null
                ? PickResult.None
                : new PickResult(target, Key(target));
        }

        private string Key(UpstreamTarget target) => byAddress ? target.Address : target.OpaqueToken;
    }
}
