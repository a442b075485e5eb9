using System.Net;
using Lb.Balancing;

namespace Lb.AspNetCore.L4;

/// <summary>
/// <c>source</c> for TCP listeners when no policy of that name is registered: weighted rendezvous hashing of the
/// client address over the pool's targets. Consistent (removing a target moves only its own clients) and the same
/// on every node, since it hashes addresses with a fixed function, not the process-random string hash.
/// </summary>
internal sealed class SourceHashBalancer(UpstreamPool pool) : IRouteBalancer
{
    public PickResult Pick(in PickContext context)
    {
        var client = ClientKey(context.ClientAddress);
        UpstreamTarget? best = null;
        var bestScore = double.NegativeInfinity;
        foreach (var target in pool.Targets)
        {
            if (ReferenceEquals(target, context.Exclude) || !target.IsAvailable || !target.HasRoom)
            {
                continue;
            }
            // Weighted rendezvous: -w / ln(u) with u uniform in (0,1) from the pair's hash.
            var h = Mix(client ^ Fnv(target.Address));
            var u = ((h >> 11) + 0.5) / (1UL << 53);
            var score = -Math.Max(1, target.Weight) / Math.Log(u);
            if (score > bestScore)
            {
                best = target;
                bestScore = score;
            }
        }
        return best is not null && best.TryAcquire() ? new PickResult(best) : PickResult.None;
    }

    private static ulong ClientKey(IPAddress? address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (address is null || !address.TryWriteBytes(bytes, out var written))
        {
            return 0;
        }
        var h = 14695981039346656037UL;
        foreach (var b in bytes[..written])
        {
            h = (h ^ b) * 1099511628211UL;
        }
        return h;
    }

    private static ulong Fnv(string s)
    {
        var h = 14695981039346656037UL;
        foreach (var c in s)
        {
            h = (h ^ c) * 1099511628211UL;
        }
        return h;
    }

    private static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdUL;
        x ^= x >> 33;
        x *= 0xc4ceb93fe53e94d3UL;
        return x ^ (x >> 33);
    }
}
