using System.Net;
using Lb.Balancing.Policies;
using Lb.Core.Spec;

namespace Lb.Balancing;

/// <summary>
/// <c>5_tuple_hash</c>: client address and port, local address and port and protocol, hashed onto a
/// consistent-hash ring with weight-proportional virtual nodes (the reference uses modulo, contract §13.15).
/// Removing one of N targets remaps only about 1/N of the keys; an unavailable target's keys go to the next
/// available target clockwise, the same one every time.
/// </summary>
public sealed class FiveTupleHashPolicy : ILoadBalancingPolicy
{
    /// <inheritdoc />
    public string Name => Algorithms.FiveTupleHash;

    /// <summary>Reads the connection: client and local address and port, and the protocol.</summary>
    public PickInputs GetInputs(RouteSpec route) => PickInputs.Connection;

    /// <inheritdoc />
    public IRouteBalancer CreateBalancer(RouteSpec route, UpstreamPool pool)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(pool);
        // Built here (off the request path) and shared by every route of the pool; reused across snapshots
        // while the pool's addresses and weights stay the same.
        return new Balancer(pool, pool.GetRing());
    }

    /// <summary>The 64-bit key of a 5-tuple; allocation-free.</summary>
    internal static ulong HashKey(in PickContext context)
    {
        var hash = StableHash.Start;
        hash = AddAddress(hash, context.ClientAddress);
        hash = StableHash.Add(hash, context.ClientPort);
        hash = AddAddress(hash, context.LocalAddress);
        hash = StableHash.Add(hash, context.LocalPort);
        hash = StableHash.Add(hash, context.Protocol);
        return StableHash.Mix(hash);
    }

    private static ulong AddAddress(ulong hash, IPAddress? address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (address is null || !address.TryWriteBytes(bytes, out var written))
        {
            return StableHash.Add(hash, 0);
        }
        return StableHash.Add(hash, bytes[..written]);
    }

    private sealed class Balancer(UpstreamPool pool, HashRing ring) : IRouteBalancer
    {
        public PickResult Pick(in PickContext context)
        {
            if (pool.GetView().Available.Length == 0)
            {
                return PickResult.None;
            }
            var targets = pool.TargetArray;
            var owners = ring.Owners;
            var exclude = context.Exclude;
            var start = ring.FirstAtOrAfter(HashKey(context));
            for (var k = 0; k < owners.Length; k++)
            {
                var candidate = targets[owners[(start + k) % owners.Length]];
                if (!ReferenceEquals(candidate, exclude) && candidate.IsAvailable && candidate.TryAcquire())
                {
                    return new PickResult(candidate);
                }
            }
            return PickResult.None;
        }
    }
}
