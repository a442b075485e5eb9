using Lb.Balancing.Policies;
using Lb.Balancing.Registry;
using Lb.Core.Spec;

namespace Lb.Balancing;

/// <summary>
/// <c>least_connection</c>: the available target with the fewest in-flight requests per unit of weight.
/// The scan starts at a per-route rotating offset, so ties go round robin and concurrent callers that see
/// the same counts start from different targets instead of all piling onto the first.
/// </summary>
public sealed class LeastConnectionPolicy : ILoadBalancingPolicy
{
    /// <inheritdoc />
    public string Name => Algorithms.LeastConnection;

    /// <inheritdoc />
    public IRouteBalancer CreateBalancer(RouteSpec route, UpstreamPool pool)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(pool);
        return new Balancer(pool, pool.GetRouteCounter(route.Id));
    }

    private sealed class Balancer(UpstreamPool pool, RouteCounter counter) : IRouteBalancer
    {
        public PickResult Pick(in PickContext context)
        {
            var view = pool.GetView();
            var available = view.Available;
            if (available.Length == 0)
            {
                return PickResult.None;
            }
            var targets = pool.TargetArray;
            var weights = view.Weights;
            var exclude = context.Exclude;
            var start = (int)(counter.Next() % (ulong)available.Length);
            UpstreamTarget? best = null;
            long bestActive = 0;
            long bestWeight = 1;
            // Two plain passes (start..end, then 0..start) instead of a modulo per step: this loop is O(targets).
            for (var pass = 0; pass < 2; pass++)
            {
                var from = pass == 0 ? start : 0;
                var to = pass == 0 ? available.Length : start;
                for (var k = from; k < to; k++)
                {
                    var i = available[k];
                    var candidate = targets[i];
                    if (ReferenceEquals(candidate, exclude) || !candidate.IsAvailable || !candidate.HasRoom)
                    {
                        continue;
                    }
                    long active = candidate.ActiveRequests;
                    long weight = Math.Max(1, weights[i]);
                    // active/weight < bestActive/bestWeight without division; strict, so the earliest in scan order wins ties.
                    if (best is null || active * bestWeight < bestActive * weight)
                    {
                        best = candidate;
                        bestActive = active;
                        bestWeight = weight;
                    }
                }
            }
            // Another request may have taken the last slot since the scan: then this one queues (or is answered 503).
            return best is not null && best.TryAcquire() ? new PickResult(best) : PickResult.None;
        }
    }
}
