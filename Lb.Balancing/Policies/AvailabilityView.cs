using Lb.Balancing.Registry;

namespace Lb.Balancing.Policies;

/// <summary>
/// Immutable list of the targets that were available when it was built, with the weighted round-robin
/// sequence over them. Valid until the health epoch moves or the earliest pending ejection ends.
/// </summary>
internal sealed class AvailabilityView
{
    /// <summary>Weight totals up to this expand into an explicit smooth sequence; larger ones use prefix sums.</summary>
    internal const int MaxSequenceLength = 4096;

    /// <summary>Weights are multiplied by this while a target ramps up, so a weight-1 target can take a fraction of its share.</summary>
    internal const int RampScale = 10;

    private AvailabilityView(int epoch, long recheckAt, int[] available, int[]? sequence, long[] cumulative, long totalWeight, long stride, int[] weights)
    {
        Weights = weights;
        Epoch = epoch;
        RecheckAt = recheckAt;
        Available = available;
        Sequence = sequence;
        Cumulative = cumulative;
        TotalWeight = totalWeight;
        Stride = stride;
    }

    public int Epoch { get; }

    /// <summary>The weight of each target (by pool index) as this view balances it: configured, or lower during slow start.</summary>
    public int[] Weights { get; }

    /// <summary>TimeProvider timestamp at which an ejection ends and the view must be rebuilt; <see cref="long.MaxValue"/> if none.</summary>
    public long RecheckAt { get; }

    /// <summary>Indices (into the pool's targets) of the available targets, in configuration order.</summary>
    public int[] Available { get; }

    /// <summary>Smooth weighted round-robin sequence of target indices; null when the weights are too large to expand.</summary>
    public int[]? Sequence { get; }

    /// <summary>Cumulative weights over <see cref="Available"/> (used when <see cref="Sequence"/> is null).</summary>
    public long[] Cumulative { get; }

    public long TotalWeight { get; }

    /// <summary>A multiplier coprime with <see cref="TotalWeight"/> that scatters consecutive positions.</summary>
    public long Stride { get; }

    /// <summary>The target index at round-robin position <paramref name="position"/>.</summary>
    public int At(ulong position)
    {
        if (Sequence is { } seq)
        {
            return seq[(int)(position % (ulong)seq.Length)];
        }
        // Multiplying by a stride coprime with the total is a permutation of 0..total-1, so every cycle of
        // `total` picks still gives each target exactly its weight, but neighbours land on different targets.
        var slot = (long)(position % (ulong)TotalWeight) * Stride % TotalWeight;
        var lo = 0;
        var hi = Cumulative.Length - 1;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (Cumulative[mid] > slot)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }
        return Available[lo];
    }

    public static AvailabilityView Build(UpstreamTarget[] targets, int[] weights, RegistryContext context, TimeSpan slowStart = default)
    {
        var epoch = context.HealthEpoch;
        var now = context.Time.GetTimestamp();
        var recheckAt = long.MaxValue;
        if (slowStart > TimeSpan.Zero)
        {
            weights = Ramped(targets, weights, context, slowStart, now, ref recheckAt);
        }
        var available = new List<int>(targets.Length);
        for (var i = 0; i < targets.Length; i++)
        {
            var until = targets[i].EjectedUntilTimestamp;
            if (until != 0 && now < until)
            {
                recheckAt = Math.Min(recheckAt, until);
                continue;
            }
            if (targets[i].ActiveHealthy && targets[i].State == Lb.Core.Spec.TargetStates.Ready)
            {
                available.Add(i);
            }
        }

        var indices = available.ToArray();
        var cumulative = new long[indices.Length];
        long total = 0;
        var gcd = 0;
        for (var k = 0; k < indices.Length; k++)
        {
            var w = Math.Max(1, weights[indices[k]]);
            total += w;
            cumulative[k] = total;
            gcd = Gcd(gcd, w);
        }

        int[]? sequence = null;
        if (indices.Length > 0 && total / gcd <= MaxSequenceLength)
        {
            sequence = SmoothSequence(indices, weights, gcd, (int)(total / gcd));
        }
        return new AvailabilityView(epoch, recheckAt, indices, sequence, cumulative, total, CoprimeStride(total), weights);
    }

    /// <summary>
    /// Slow start: a target that came back less than <paramref name="slowStart"/> ago gets a share growing linearly from
    /// a tenth to full; the view is rebuilt every tenth of the period until every ramp is over.
    /// </summary>
    private static int[] Ramped(UpstreamTarget[] targets, int[] weights, RegistryContext context, TimeSpan slowStart, long now, ref long recheckAt)
    {
        int[]? ramped = null;
        for (var i = 0; i < targets.Length; i++)
        {
            var since = targets[i].RampStart;
            if (since == 0)
            {
                continue;
            }
            var elapsed = context.Time.GetElapsedTime(since, now);
            if (elapsed >= slowStart)
            {
                continue;
            }
            if (ramped is null)
            {
                ramped = new int[weights.Length];
                for (var k = 0; k < weights.Length; k++)
                {
                    ramped[k] = Math.Max(1, weights[k]) * RampScale;
                }
            }
            var fraction = Math.Max(0.1, elapsed / slowStart);
            ramped[i] = Math.Max(1, (int)Math.Ceiling(Math.Max(1, weights[i]) * RampScale * fraction));
            var step = (long)(slowStart.TotalSeconds / 10 * context.Time.TimestampFrequency);
            recheckAt = Math.Min(recheckAt, now + Math.Max(1, step));
        }
        return ramped ?? weights;
    }

    /// <summary>nginx-style smooth weighted round robin: equal weights give plain config order.</summary>
    private static int[] SmoothSequence(int[] indices, int[] weights, int gcd, int length)
    {
        var effective = new int[indices.Length];
        var current = new long[indices.Length];
        long sum = 0;
        for (var k = 0; k < indices.Length; k++)
        {
            effective[k] = Math.Max(1, weights[indices[k]]) / gcd;
            sum += effective[k];
        }
        var sequence = new int[length];
        for (var step = 0; step < length; step++)
        {
            var best = 0;
            for (var k = 0; k < indices.Length; k++)
            {
                current[k] += effective[k];
                if (current[k] > current[best])
                {
                    best = k;
                }
            }
            current[best] -= sum;
            sequence[step] = indices[best];
        }
        return sequence;
    }

    private static long CoprimeStride(long total)
    {
        if (total <= 1)
        {
            return 1;
        }
        foreach (var prime in (ReadOnlySpan<long>)[7919, 104729, 1299709, 15485863])
        {
            if (total % prime != 0)
            {
                return prime % total == 0 ? 1 : prime % total;
            }
        }
        return 1;
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }
        return a;
    }
}
