using Lb.Balancing.Policies;
using Lb.Balancing.Registry;
using Lb.Core.Spec;

namespace Lb.Balancing;

/// <summary>
/// <c>random</c>: the power of two random choices, HAProxy's <c>balance random</c> (with its default of two draws).
/// Two different targets are drawn at random in proportion to their weights, and the one with fewer in-flight
/// requests per unit of weight wins: almost as even as least connection, without every node and route herding onto
/// the same least-loaded target.
/// </summary>
public sealed class RandomPolicy : ILoadBalancingPolicy
{
    /// <summary>Draws for a second target different from the first before taking the next one in order.</summary>
    private const int SecondDrawAttempts = 4;

    /// <inheritdoc />
    public string Name => Algorithms.Random;

    /// <inheritdoc />
    public IRouteBalancer CreateBalancer(RouteSpec route, UpstreamPool pool)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(pool);
        return new Balancer(pool);
    }

    private sealed class Balancer(UpstreamPool pool) : IRouteBalancer
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
            var first = view.At((ulong)Random.Shared.NextInt64(long.MaxValue));
            var second = first;
            for (var attempt = 0; attempt < SecondDrawAttempts && second == first && available.Length > 1; attempt++)
            {
                second = view.At((ulong)Random.Shared.NextInt64(long.MaxValue));
            }
            if (second == first && available.Length > 1)
            {
                var at = Array.IndexOf(available, first);
                second = available[(at + 1) % available.Length];
            }
            var a = targets[first];
            var b = targets[second];
            var aUsable = !ReferenceEquals(a, exclude) && a.IsAvailable && a.HasRoom;
            var bUsable = !ReferenceEquals(b, exclude) && b.IsAvailable && b.HasRoom;
            UpstreamTarget? chosen = (aUsable, bUsable) switch
            {
                (true, true) => (long)b.ActiveRequests * Math.Max(1, weights[first]) < (long)a.ActiveRequests * Math.Max(1, weights[second]) ? b : a,
                (true, false) => a,
                (false, true) => b,
                _ => null,
            };
            if (chosen is null || !chosen.TryAcquire())
            {
                return new PickResult(Picking.NextAvailable(view, targets, first, exclude));
            }
            return new PickResult(chosen);
        }
    }
}
