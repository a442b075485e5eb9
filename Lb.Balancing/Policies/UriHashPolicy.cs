using Lb.Balancing.Policies;
using Lb.Core.Spec;

namespace Lb.Balancing;

/// <summary>
/// <c>uri</c>: a consistent hash of the request path without the query, HAProxy's <c>balance uri</c>: each path is
/// served by one target (cache affinity).
/// </summary>
public sealed class UriHashPolicy : ILoadBalancingPolicy
{
    private static readonly PickInputs Inputs = new() { Path = true };

    /// <inheritdoc />
    public string Name => Algorithms.Uri;

    /// <summary>Reads the path.</summary>
    public PickInputs GetInputs(RouteSpec route) => Inputs;

    /// <inheritdoc />
    public IRouteBalancer CreateBalancer(RouteSpec route, UpstreamPool pool)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(pool);
        return new HashKeyBalancer(pool, pool.GetRing(), pool.GetRouteCounter(route.Id), ReadKey);
    }

    private static bool ReadKey(in PickContext context, out ulong key)
    {
        var path = context.Path;
        key = HashKeyBalancer.Of(string.IsNullOrEmpty(path) ? "/" : path);
        return path is not null;
    }
}
