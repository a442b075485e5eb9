using Lb.Balancing.Policies;
using Lb.Core.Spec;

namespace Lb.Balancing;

/// <summary>
/// <c>source</c>: a consistent hash of the client address (after trusted proxies), HAProxy's <c>balance source</c>.
/// Every request of one client goes to the same target while it is available, whatever its port or connection.
/// </summary>
public sealed class SourceHashPolicy : ILoadBalancingPolicy
{
    private static readonly PickInputs Inputs = new() { ClientAddress = true };

    /// <inheritdoc />
    public string Name => Algorithms.Source;

    /// <summary>Reads the client address.</summary>
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
        Span<byte> bytes = stackalloc byte[16];
        if (context.ClientAddress is not { } address || !address.TryWriteBytes(bytes, out var written))
        {
            key = 0;
            return false;
        }
        // An IPv4 client seen through a dual-stack socket is the same client as over IPv4.
        var span = written == 16 && address.IsIPv4MappedToIPv6 ? bytes[12..16] : bytes[..written];
        key = StableHash.Mix(StableHash.Add(StableHash.Start, span));
        return true;
    }
}
