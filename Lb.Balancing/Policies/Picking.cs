using Lb.Balancing.Registry;

namespace Lb.Balancing.Policies;

/// <summary>Selection steps shared by the policies.</summary>
internal static class Picking
{
    /// <summary>Weighted round-robin pick; counts the request on the returned target.</summary>
    public static UpstreamTarget? RoundRobin(UpstreamPool pool, RouteCounter counter, UpstreamTarget? exclude)
    {
        var view = pool.GetView();
        if (view.Available.Length == 0)
        {
            return null;
        }
        var targets = pool.TargetArray;
        var index = view.At(counter.Next());
        var target = targets[index];
        if (!ReferenceEquals(target, exclude) && target.IsAvailable && target.TryAcquire())
        {
            return target;
        }
        return NextAvailable(view, targets, index, exclude);
    }

    /// <summary>
    /// The first target after <paramref name="index"/> (config order, wrapping) that is available, not
    /// excluded and below its connection limit. Used when the cached view is a moment stale or the pick hit the excluded target.
    /// </summary>
    public static UpstreamTarget? NextAvailable(AvailabilityView view, UpstreamTarget[] targets, int index, UpstreamTarget? exclude)
    {
        var available = view.Available;
        var start = Array.BinarySearch(available, index);
        start = start < 0 ? ~start : start + 1;
        for (var k = 0; k < available.Length; k++)
        {
            var candidate = targets[available[(start + k) % available.Length]];
            if (!ReferenceEquals(candidate, exclude) && candidate.IsAvailable && candidate.TryAcquire())
            {
                return candidate;
            }
        }
        return null;
    }
}
