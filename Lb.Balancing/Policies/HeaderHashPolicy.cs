using Lb.Balancing.Policies;
using Lb.Core.Spec;
using Lb.Core.Validation;

namespace Lb.Balancing;

/// <summary>
/// <c>hdr</c>: a consistent hash of the request header the route's <c>hash_key</c> names, HAProxy's
/// <c>balance hdr(name)</c>. Requests without the header (or with it empty) are balanced round robin.
/// </summary>
public sealed class HeaderHashPolicy : ILoadBalancingPolicy
{
    /// <inheritdoc />
    public string Name => Algorithms.Header;

    /// <summary>Reads the header named by <c>hash_key</c>.</summary>
    public PickInputs GetInputs(RouteSpec route)
    {
        ArgumentNullException.ThrowIfNull(route);
        return new PickInputs { HeaderName = string.IsNullOrEmpty(route.HashKey) ? null : route.HashKey };
    }

    /// <summary><c>hash_key</c> is required and must be an HTTP header name (a token).</summary>
    public void Validate(RouteSpec route, string path, ICollection<ValidationError> errors)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(errors);
        if (string.IsNullOrEmpty(route.HashKey))
        {
            errors.Add(new ValidationError($"{path}.hash_key", ValidationCodes.InvalidHashKey, "hdr needs hash_key: the request header to hash", "for example \"hash_key\": \"X-User-Id\""));
        }
        else if (route.HashKey.Length > 128 || !route.HashKey.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal)))
        {
            errors.Add(new ValidationError($"{path}.hash_key", ValidationCodes.InvalidHashKey, "hash_key must be an HTTP header name", "use letters, digits and '-', such as \"X-User-Id\" (no colon, no value)"));
        }
    }

    /// <inheritdoc />
    public IRouteBalancer CreateBalancer(RouteSpec route, UpstreamPool pool)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(pool);
        return new HashKeyBalancer(pool, pool.GetRing(), pool.GetRouteCounter(route.Id), ReadKey);
    }

    private static bool ReadKey(in PickContext context, out ulong key)
    {
        var value = context.HeaderValue;
        key = string.IsNullOrEmpty(value) ? 0 : HashKeyBalancer.Of(value);
        return !string.IsNullOrEmpty(value);
    }
}
