using Lb.Core.Spec;

namespace Lb.Balancing.Tests;

public sealed class AllocationTests
{
    [Theory]
    [InlineData(Algorithms.RoundRobin, 2)]
    [InlineData(Algorithms.RoundRobin, 256)]
    [InlineData(Algorithms.StickyCookie, 16)]
    [InlineData(Algorithms.FiveTupleHash, 16)]
    [InlineData(Algorithms.FiveTupleHash, 256)]
    [InlineData(Algorithms.LeastConnection, 16)]
    [InlineData(Algorithms.LeastConnection, 256)]
    public async Task A_thousand_picks_allocate_nothing(string algorithm, int targets)
    {
        await using var h = new Harness();
        var pool = h.ApplyPool(Configs.Specs(Configs.Addresses(targets)));
        // One unhealthy target exercises the skip paths too.
        pool.Targets[targets / 2].ForceHealth(false);
        var balancer = h.Balancer(pool, algorithm);
        var cookie = balancer.Pick(default).SetCookieValue;
        var contexts = Enumerable.Range(0, 1000).Select(i => FiveTupleHashTests.Flow(i) with { CookieValue = i % 2 == 0 ? cookie : null }).ToArray();
        Run(balancer, contexts);

        var before = GC.GetAllocatedBytesForCurrentThread();
        Run(balancer, contexts);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    [Theory]
    [InlineData(Algorithms.RoundRobin)]
    [InlineData(Algorithms.LeastConnection)]
    [InlineData(Algorithms.Random)]
    [InlineData(Algorithms.Source)]
    [InlineData(Algorithms.StickyCookie)]
    public async Task Picks_under_a_connection_limit_that_is_not_reached_allocate_nothing(string algorithm)
    {
        await using var h = new Harness();
        var pool = h.Registry.Apply(Configs.Config(("p", Configs.Pool(Configs.Specs(Configs.Addresses(16))) with { MaxConnections = 1000 }))).Pools["p"];
        var balancer = h.Balancer(pool, algorithm);
        var contexts = Enumerable.Range(0, 1000).Select(FiveTupleHashTests.Flow).ToArray();
        Run(balancer, contexts);

        var before = GC.GetAllocatedBytesForCurrentThread();
        Run(balancer, contexts);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(pool.HasLimits);
    }

    private static void Run(IRouteBalancer balancer, PickContext[] contexts)
    {
        for (var i = 0; i < contexts.Length; i++)
        {
            var result = balancer.Pick(contexts[i]);
            result.Target?.Complete(RequestOutcome.Success);
        }
    }
}
