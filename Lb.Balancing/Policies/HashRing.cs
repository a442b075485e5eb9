namespace Lb.Balancing.Policies;

/// <summary>
/// Consistent-hash ring with virtual nodes proportional to weight. It covers every target of a pool; health
/// is applied at lookup by walking clockwise past unavailable targets, so a target going down moves only
/// its own keys, spread over the other targets.
/// </summary>
internal sealed class HashRing
{
    /// <summary>Upper bound on ring points, so 1000 targets of weight 1000 do not build a huge ring.</summary>
    internal const int MaxPoints = 64 * 1024;

    /// <summary>Points per unit of weight when the budget allows; about 6% share deviation per target.</summary>
    internal const int PointsPerWeight = 256;

    private HashRing(ulong[] points, int[] owners)
    {
        Points = points;
        Owners = owners;
    }

    /// <summary>Sorted point hashes.</summary>
    public ulong[] Points { get; }

    /// <summary>Target index owning each point.</summary>
    public int[] Owners { get; }

    /// <summary>The first point at or after <paramref name="hash"/> (wrapping).</summary>
    public int FirstAtOrAfter(ulong hash)
    {
        var index = Array.BinarySearch(Points, hash);
        if (index < 0)
        {
            index = ~index;
        }
        return index == Points.Length ? 0 : index;
    }

    public static HashRing Build(UpstreamTarget[] targets, int[] weights)
    {
        long totalWeight = 0;
        foreach (var w in weights)
        {
            totalWeight += Math.Max(1, w);
        }
        var perWeight = (int)Math.Clamp(MaxPoints / Math.Max(1, totalWeight), 1, PointsPerWeight);
        var count = 0L;
        foreach (var w in weights)
        {
            count += Math.Max(1, w) * (long)perWeight;
        }
        var points = new ulong[count];
        var owners = new int[count];
        var n = 0;
        for (var i = 0; i < targets.Length; i++)
        {
            // Points depend only on the address, so every node and every config generation builds the same ring.
            var seed = StableHash.OfString(targets[i].Address);
            var pointCount = Math.Max(1, weights[i]) * perWeight;
            for (var v = 0; v < pointCount; v++)
            {
                points[n] = StableHash.Mix(seed ^ StableHash.Mix((ulong)v + 0x9E3779B97F4A7C15UL));
                owners[n] = i;
                n++;
            }
        }
        Array.Sort(points, owners);
        return new HashRing(points, owners);
    }
}

/// <summary>Process-independent hashing (string.GetHashCode is randomised per process).</summary>
internal static class StableHash
{
    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    public static ulong Start => FnvOffset;

    public static ulong Add(ulong hash, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * FnvPrime;
        }
        return hash;
    }

    public static ulong Add(ulong hash, int value)
    {
        for (var i = 0; i < 4; i++)
        {
            hash = (hash ^ (byte)(value >> (8 * i))) * FnvPrime;
        }
        return hash;
    }

    public static ulong Add(ulong hash, string? text)
    {
        if (text is null)
        {
            return hash;
        }
        foreach (var c in text)
        {
            hash = (hash ^ (byte)c) * FnvPrime;
            hash = (hash ^ (byte)(c >> 8)) * FnvPrime;
        }
        return hash;
    }

    public static ulong OfString(string text) => Mix(Add(FnvOffset, text));

    /// <summary>MurmurHash3's 64-bit finaliser: FNV alone leaves the high bits poorly mixed for ring placement.</summary>
    public static ulong Mix(ulong h)
    {
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb53fe1a85a63UL;
        h ^= h >> 33;
        return h;
    }
}
