using Lb.Balancing.Policies;
using Lb.Core.Spec;
using Lb.Core.Validation;

namespace Lb.Balancing;

/// <summary>
/// <c>url_param</c>: a consistent hash of the value of the query parameter the route's <c>hash_key</c> names, HAProxy's
/// <c>balance url_param</c>. Requests without the parameter are balanced round robin.
/// </summary>
public sealed class UrlParamHashPolicy : ILoadBalancingPolicy
{
    private static readonly PickInputs Inputs = new() { Query = true };

    /// <inheritdoc />
    public string Name => Algorithms.UrlParam;

    /// <summary>Reads the query string.</summary>
    public PickInputs GetInputs(RouteSpec route) => Inputs;

    /// <summary><c>hash_key</c> names the parameter: required, without <c>&amp;</c>, <c>=</c>, <c>?</c>, <c>#</c> or blanks.</summary>
    public void Validate(RouteSpec route, string path, ICollection<ValidationError> errors)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(errors);
        if (string.IsNullOrEmpty(route.HashKey))
        {
            errors.Add(new ValidationError($"{path}.hash_key", ValidationCodes.InvalidHashKey, "url_param needs hash_key: the query parameter to hash", "for example \"hash_key\": \"userid\""));
        }
        else if (route.HashKey.Length > 128 || route.HashKey.Any(c => c is '&' or '=' or '?' or '#' || char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            errors.Add(new ValidationError($"{path}.hash_key", ValidationCodes.InvalidHashKey, "hash_key must be a query parameter name (at most 128 characters, no '&', '=', '?', '#' or blanks)", "write the name as it appears before '=' in the URL"));
        }
    }

    /// <inheritdoc />
    public IRouteBalancer CreateBalancer(RouteSpec route, UpstreamPool pool)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(pool);
        var name = route.HashKey ?? "";
        return new HashKeyBalancer(pool, pool.GetRing(), pool.GetRouteCounter(route.Id),
            (in PickContext context, out ulong key) => TryHashParameter(context.Query, name, out key));
    }

    /// <summary>Finds <paramref name="name"/> in a raw query and hashes its (still encoded) value; allocation-free.</summary>
    internal static bool TryHashParameter(string? query, string name, out ulong key)
    {
        key = 0;
        if (string.IsNullOrEmpty(query) || name.Length == 0)
        {
            return false;
        }
        var rest = query.AsSpan();
        if (rest[0] == '?')
        {
            rest = rest[1..];
        }
        while (!rest.IsEmpty)
        {
            var amp = rest.IndexOf('&');
            var pair = amp < 0 ? rest : rest[..amp];
            rest = amp < 0 ? default : rest[(amp + 1)..];
            var eq = pair.IndexOf('=');
            if (eq == name.Length && pair.StartsWith(name, StringComparison.Ordinal))
            {
                key = HashKeyBalancer.Of(pair[(eq + 1)..]);
                return true;
            }
        }
        return false;
    }
}
