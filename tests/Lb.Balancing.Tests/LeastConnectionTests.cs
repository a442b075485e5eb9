using Lb.Core.Spec;

namespace Lb.Balancing.Tests;

public sealed class LeastConnectionTests
{
    [Fact]
    public async Task First_goes_to_a_then_b_while_a_is_busy_then_ties_go_round_robin()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("a:1", "b:1");
        var balancer = h.Balancer(pool, Algorithms.LeastConnection);

        var first = balancer.Pick(default).Target!;
        var second = balancer.Pick(default).Target!;
        Assert.Equal("a:1", first.Address);
        Assert.Equal("b:1", second.Address);
        Assert.Equal(1, first.GetStatus().ActiveConnections);
        first.Complete(RequestOutcome.Success);
        second.Complete(RequestOutcome.Success);

        var ties = Enumerable.Range(0, 4).Select(_ => balancer.PickOne()!.Address).ToArray();
        Assert.Equal(["a:1", "b:1", "a:1", "b:1"], ties);
    }

    [Fact]
    public async Task The_least_loaded_target_wins_regardless_of_position()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("a:1", "b:1", "c:1");
        var balancer = h.Balancer(pool, Algorithms.LeastConnection);
        var held = Enumerable.Range(0, 5).Select(_ => balancer.Pick(default).Target!).ToList();
        // 5 picks over 3 idle targets: counts 2,2,1.
        Assert.Equal([2, 2, 1], pool.Targets.Select(t => t.ActiveRequests).Order().Reverse());
        var least = pool.Targets.Single(t => t.ActiveRequests == 1);

        for (var i = 0; i < 10; i++)
        {
            Assert.Same(least, balancer.PickOne());
        }
        held.ForEach(t => t.Complete(RequestOutcome.Success));
        Assert.All(pool.Targets, t => Assert.Equal(0, t.ActiveRequests));
    }

    [Fact]
    public async Task Weight_scales_the_share_of_in_flight_requests()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool(new UpstreamSpec("a:1", 1), new UpstreamSpec("b:1", 3));
        var balancer = h.Balancer(pool, Algorithms.LeastConnection);

        for (var i = 0; i < 400; i++)
        {
            balancer.Pick(default);
        }

        Assert.Equal(100, pool.Targets[0].ActiveRequests);
        Assert.Equal(300, pool.Targets[1].ActiveRequests);
    }

    [Fact]
    public async Task Concurrent_callers_holding_requests_are_spread_across_targets()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool(Configs.Specs(Configs.Addresses(8)));
        var balancer = h.Balancer(pool, Algorithms.LeastConnection);
        const int threads = 16;
        const int holdEach = 50;
        using var barrier = new Barrier(threads);
        var held = new UpstreamTarget[threads][];

        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            barrier.SignalAndWait();
            held[t] = Enumerable.Range(0, holdEach).Select(_ => balancer.Pick(default).Target!).ToArray();
        });

        var counts = pool.Targets.Select(t => t.ActiveRequests).ToArray();
        Assert.Equal(threads * holdEach, counts.Sum());
        // Perfect would be 100 each; concurrent picks may read the same counts, but never pile up.
        Assert.InRange(counts.Max() - counts.Min(), 0, threads);

        foreach (var target in held.SelectMany(x => x))
        {
            target.Complete(RequestOutcome.Success);
        }
        Assert.All(pool.Targets, t => Assert.Equal(0, t.ActiveRequests));
    }

    [Fact]
    public async Task Unhealthy_and_excluded_targets_are_not_picked()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("a:1", "b:1", "c:1");
        var balancer = h.Balancer(pool, Algorithms.LeastConnection);
        pool.Targets[0].ForceHealth(false);

        for (var i = 0; i < 20; i++)
        {
            Assert.Same(pool.Targets[2], balancer.PickOne(new PickContext { Exclude = pool.Targets[1] }));
        }
    }
}
