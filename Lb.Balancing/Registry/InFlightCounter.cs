namespace Lb.Balancing.Registry;

/// <summary>Requests picked on a target and not yet completed; what least-connection compares. Lock-free.</summary>
internal struct InFlightCounter
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Acquire() => Interlocked.Increment(ref _count);

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
