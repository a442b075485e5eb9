using CsCheck;
using Lb.Core.Spec;

namespace Lb.Balancing.Tests;

public sealed class PropertyTests
{
    [Fact]
    public void Round_robin_gives_every_available_target_exactly_its_weight_per_cycle()
    {
        Gen.Select(Gen.Int[1, 40].Array[1, 10], Gen.Int[0, 1023], Gen.Int[1, 3]).Sample((weights, downMask, cycles) =>
        {
            using var h = new Harness();
            var pool = h.ApplyPool(weights.Select((w, i) => new UpstreamSpec($"t{i}:1", w)).ToArray());
            var balancer = h.Balancer(pool, Algorithms.RoundRobin);
            for (var i = 0; i < weights.Length; i++)
            {
                pool.Targets[i].ForceHealth((downMask & (1 << i)) == 0);
            }
            var up = Enumerable.Range(0, weights.Length).Where(i => pool.Targets[i].IsAvailable).ToArray();
            var total = up.Sum(i => weights[i]);

            var counts = total == 0 ? [] : RoundRobinTests.Count(balancer, total * cycles);

            foreach (var i in Enumerable.Range(0, weights.Length))
            {
                var expected = up.Contains(i) ? weights[i] * cycles : 0;
                if (counts.GetValueOrDefault($"t{i}:1") != expected)
                {
                    return false;
                }
            }
            return total != 0 || balancer.Pick(default).Target is null;
        }, iter: 200);
    }

    [Fact]
    public void A_sticky_client_stays_on_its_target_whatever_happens_to_the_others()
    {
        Gen.Select(Gen.Int[2, 12], Gen.Int[0, 4095].Array[1, 20]).Sample((n, flips) =>
        {
            using var h = new Harness();
            var pool = h.ApplyPool(Configs.Specs(Configs.Addresses(n)));
            var balancer = h.Balancer(pool, Algorithms.StickyCookie);
            var first = balancer.Pick(default);
            first.Target!.Complete(RequestOutcome.Success);
            foreach (var mask in flips)
            {
                for (var i = 0; i < n; i++)
                {
                    var target = pool.Targets[i];
                    target.ForceHealth(ReferenceEquals(target, first.Target) || (mask & (1 << i)) != 0);
                }
                var again = balancer.Pick(new PickContext { CookieValue = first.SetCookieValue });
                again.Target!.Complete(RequestOutcome.Success);
                if (!ReferenceEquals(again.Target, first.Target) || again.SetCookieValue is not null)
                {
                    return false;
                }
            }
            return true;
        }, iter: 100);
    }
}
