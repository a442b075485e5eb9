using Lb.Balancing.Registry;

namespace Lb.Balancing.Policies;

/// <summary>Reads the hash key of a request; false when the request has none (then the pick falls back to round robin).</summary>
internal delegate bool HashKeyReader(in PickContext context, out ulong key);

/// <summary>
/// The balancer of the keyed hash policies (<c>source</c>, <c>uri</c>, <c>url_param</c>, <c>hdr</c>): the key goes onto
/// the pool's consistent-hash ring, as <c>5_tuple_hash</c> does, so removing one of N targets remaps about 1/N of the
/// keys and an unavailable target's keys go to the next available target clockwise. A request without the key
/// (no such header or parameter) is balanced round robin, as HAProxy does.
/// </summary>
internal sealed class HashKeyBalancer(UpstreamPool pool, HashRing ring, RouteCounter counter, HashKeyReader read) : IRouteBalancer
{
    public PickResult Pick(in PickContext context)
    {
        if (!read(in context, out var key))
        {
            return new PickResult(Picking.RoundRobin(pool, counter, context.Exclude));
        }
        if (pool.GetView().Available.Length == 0)
        {
            return PickResult.None;
        }
        var targets = pool.TargetArray;
        var owners = ring.Owners;
        var exclude = context.Exclude;
        var start = ring.FirstAtOrAfter(key);
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

    /// <summary>The hash of a string key (a path, a header or parameter value); allocation-free.</summary>
    public static ulong Of(ReadOnlySpan<char> text)
    {
        var hash = StableHash.Start;
        foreach (var c in text)
        {
            hash = (hash ^ (byte)c) * 1099511628211UL;
            hash = (hash ^ (byte)(c >> 8)) * 1099511628211UL;
        }
        return StableHash.Mix(hash);
    }
}
