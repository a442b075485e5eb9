using Lb.Core.Spec;

namespace Lb.Balancing.Tests;

public sealed class RoundRobinTests
{
    [Fact]
    public async Task Three_equal_targets_get_nine_requests_three_each_cycling_in_config_order()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("a:1", "b:1", "c:1");
        var balancer = h.Balancer(pool, Algorithms.RoundRobin);

        var picks = Enumerable.Range(0, 9).Select(_ => balancer.PickOne()!.Address).ToArray();

        Assert.Equal(["a:1", "b:1", "c:1", "a:1", "b:1", "c:1", "a:1", "b:1", "c:1"], picks);
    }

    [Fact]
    public async Task Empty_algorithm_means_round_robin()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("a:1", "b:1");
        var balancer = h.Policies.CreateBalancer(Configs.Route("r", "p", algorithm: null), pool);

        Assert.Equal("a:1", balancer.PickOne()!.Address);
        Assert.Equal("b:1", balancer.PickOne()!.Address);
    }

    [Fact]
    public async Task Weights_are_honoured_within_one_percent()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool(new UpstreamSpec("a:1", 1), new UpstreamSpec("b:1", 3), new UpstreamSpec("c:1", 6));
        var balancer = h.Balancer(pool, Algorithms.RoundRobin);

        var counts = Count(balancer, 10_000);

        Assert.InRange(counts["a:1"], 990, 1010);
        Assert.InRange(counts["b:1"], 2970, 3030);
        Assert.InRange(counts["c:1"], 5940, 6060);
    }

    [Fact]
    public async Task Large_weights_use_the_prefix_sum_path_and_stay_within_one_percent()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool(new UpstreamSpec("a:1", 997), new UpstreamSpec("b:1", 991), new UpstreamSpec("c:1", 983), new UpstreamSpec("d:1", 977), new UpstreamSpec("e:1", 1));
        var balancer = h.Balancer(pool, Algorithms.RoundRobin);
        const int total = 997 + 991 + 983 + 977 + 1;

        var counts = Count(balancer, total * 3);

        Assert.Equal(997 * 3, counts["a:1"]);
        Assert.Equal(3, counts["e:1"]);
    }

    [Fact]
    public async Task Smooth_weighting_interleaves_instead_of_sending_bursts()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool(new UpstreamSpec("a:1", 5), new UpstreamSpec("b:1", 1), new UpstreamSpec("c:1", 1));
        var balancer = h.Balancer(pool, Algorithms.RoundRobin);

        var picks = Enumerable.Range(0, 7).Select(_ => balancer.PickOne()!.Address).ToArray();

        Assert.Equal(["a:1", "a:1", "b:1", "a:1", "c:1", "a:1", "a:1"], picks);
    }

    [Fact]
    public async Task Unhealthy_targets_are_skipped_and_the_rest_share_evenly()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("a:1", "b:1", "c:1", "d:1");
        var balancer = h.Balancer(pool, Algorithms.RoundRobin);
        pool.Targets[1].ForceHealth(false);

        var counts = Count(balancer, 3000);

        Assert.False(counts.ContainsKey("b:1"));
        Assert.All(new[] { "a:1", "c:1", "d:1" }, a => Assert.Equal(1000, counts[a]));

        pool.Targets[1].ForceHealth(true);
        Assert.Equal(1000, Count(balancer, 4000)["b:1"]);
    }

    [Fact]
    public async Task No_available_target_gives_no_pick()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("a:1", "b:1");
        foreach (var t in pool.Targets)
        {
            t.ForceHealth(false);
        }

        var result = h.Balancer(pool, Algorithms.RoundRobin).Pick(default);

        Assert.Null(result.Target);
        Assert.All(pool.Targets, t => Assert.Equal(0, t.ActiveRequests));
    }

    [Fact]
    public async Task Excluded_target_is_avoided_and_an_only_target_that_is_excluded_gives_no_pick()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("a:1", "b:1", "c:1");
        var balancer = h.Balancer(pool, Algorithms.RoundRobin);
        var a = pool.Targets[0];

        for (var i = 0; i < 30; i++)
        {
            Assert.NotSame(a, balancer.PickOne(new PickContext { Exclude = a }));
        }

        var single = h.Registry.Apply(Configs.Config(("q", Configs.Pool("z:1")))).Pools["q"];
        var z = single.Targets[0];
        Assert.Null(h.Balancer(single, Algorithms.RoundRobin).Pick(new PickContext { Exclude = z }).Target);
    }

    [Fact]
    public async Task Concurrent_callers_get_an_exact_split()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("a:1", "b:1", "c:1", "d:1");
        var balancer = h.Balancer(pool, Algorithms.RoundRobin);
        var perTarget = new int[4];

        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                var t = balancer.PickOne()!;
                Interlocked.Increment(ref perTarget[pool.Targets.ToList().IndexOf(t)]);
            }
        });

        Assert.All(perTarget, n => Assert.Equal(20_000, n));
    }

    [Fact]
    public async Task Each_route_has_its_own_counter()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("a:1", "b:1");
        var first = h.Balancer(pool, Algorithms.RoundRobin, routeId: "r1");
        var second = h.Balancer(pool, Algorithms.RoundRobin, routeId: "r2");

        Assert.Equal("a:1", first.PickOne()!.Address);
        Assert.Equal("a:1", second.PickOne()!.Address);
        Assert.Equal("b:1", first.PickOne()!.Address);
    }

    internal static Dictionary<string, int> Count(IRouteBalancer balancer, int picks, in PickContext context = default)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < picks; i++)
        {
            var address = balancer.PickOne(context)!.Address;
            counts[address] = counts.GetValueOrDefault(address) + 1;
        }
        return counts;
    }
}
