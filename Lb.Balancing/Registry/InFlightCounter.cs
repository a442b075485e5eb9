namespace Lb.Balancing.Registry;

/// <summary>Requests picked on a target and not yet completed; what least-connection compares. Lock-free.</summary>
internal struct InFlightCounter
{
    private int _count;
    private int _max;

    public int Count => Volatile.Read(ref _count);

    /// <summary>The highest <see cref="Count"/> seen since the target was created (HAProxy's <c>smax</c>).</summary>
    public int Max => Volatile.Read(ref _max);

    public void Acquire() => RaiseMax(Interlocked.Increment(ref _count));

    /// <summary>Counts one request unless <paramref name="limit"/> are in flight already.</summary>
    public bool TryAcquire(int limit)
    {
        var current = Volatile.Read(ref _count);
        while (current < limit)
        {
            var seen = Interlocked.CompareExchange(ref _count, current + 1, current);
            if (seen == current)
            {
                RaiseMax(current + 1);
                return true;
            }
            current = seen;
        }
        return false;
    }

    private void RaiseMax(int now)
    {
        // Written only when a new maximum is reached, so the common pick costs one extra read.
        var max = Volatile.Read(ref _max);
        while (now > max)
        {
            var seen = Interlocked.CompareExchange(ref _max, now, max);
            if (seen == max)
            {
                break;
            }
            max = seen;
        }
    }

    /// <summary>Releases one request; never goes below zero, so a surplus release cannot corrupt the count.</summary>
    public void Release()
    {
        var current = Volatile.Read(ref _count);
        while (current > 0)
        {
            var seen = Interlocked.CompareExchange(ref _count, current - 1, current);
            if (seen == current)
            {
                return;
            }
            current = seen;
        }
    }
}
