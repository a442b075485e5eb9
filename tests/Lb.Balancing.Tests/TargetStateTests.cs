using Lb.Core.Spec;

namespace Lb.Balancing.Tests;

/// <summary>Operator states (ready, drain, maint) and slow start, as the balancers see them.</summary>
public sealed class TargetStateTests
{
    private static UpstreamSpec[] Two(string? secondState = null) =>
        [new UpstreamSpec("10.0.0.1:80"), new UpstreamSpec("10.0.0.2:80") { State = secondState }];

    [Theory]
    [InlineData(Algorithms.RoundRobin)]
    [InlineData(Algorithms.LeastConnection)]
    [InlineData(Algorithms.Random)]
    [InlineData(Algorithms.Source)]
    public async Task A_draining_or_maint_target_gets_no_new_requests(string algorithm)
    {
        foreach (var state in new[] { TargetStates.Drain, TargetStates.Maint })
        {
            await using var h = new Harness();
            var pool = h.ApplyPool(Two(state));
            var balancer = h.Balancer(pool, algorithm);
            for (var i = 0; i < 50; i++)
            {
                Assert.Equal("10.0.0.1:80", balancer.PickOne(FiveTupleHashTests.Flow(i * 31))!.Address);
            }
            Assert.Equal(state, pool.Targets[1].GetStatus().State);
            Assert.True(pool.Targets[1].GetStatus().Healthy);
        }
    }

    [Fact]
    public async Task Drain_keeps_existing_sticky_clients_and_maint_moves_them()
    {
        await using var h = new Harness();
        var ready = h.ApplyPool(Two());
        var first = h.Balancer(ready, Algorithms.StickyCookie).Pick(default);
        first.Target!.Complete(RequestOutcome.Success);
        Assert.Equal("10.0.0.1:80", first.Target.Address);
        var cookie = first.SetCookieValue;

        var drained = h.ApplyPool([new UpstreamSpec("10.0.0.1:80") { State = TargetStates.Drain }, new UpstreamSpec("10.0.0.2:80")]);
        var balancer = h.Balancer(drained, Algorithms.StickyCookie);
        var pinned = balancer.Pick(new PickContext { CookieValue = cookie });
        pinned.Target!.Complete(RequestOutcome.Success);
        Assert.Equal("10.0.0.1:80", pinned.Target.Address);
        Assert.Null(pinned.SetCookieValue);
        // A new client is not given a session on the draining target.
        Assert.Equal("10.0.0.2:80", balancer.PickOne()!.Address);

        var maint = h.ApplyPool([new UpstreamSpec("10.0.0.1:80") { State = TargetStates.Maint }, new UpstreamSpec("10.0.0.2:80")]);
        var moved = h.Balancer(maint, Algorithms.StickyCookie).Pick(new PickContext { CookieValue = cookie });
        moved.Target!.Complete(RequestOutcome.Success);
        Assert.Equal("10.0.0.2:80", moved.Target.Address);
        Assert.NotNull(moved.SetCookieValue);
    }

    [Fact]
    public async Task A_target_back_from_maint_ramps_up_over_slow_start()
    {
        await using var h = new Harness();
        var slow = (UpstreamSpec[] u) => h.Registry.Apply(Configs.Config(("p", Configs.Pool(u) with { SlowStart = "10s" }))).Pools["p"];
        slow(Two(TargetStates.Maint));
        var pool = slow(Two());
        var balancer = h.Balancer(pool, Algorithms.RoundRobin);

        int ShareOfSecond(int picks) => Enumerable.Range(0, picks).Count(_ => balancer.PickOne()!.Address == "10.0.0.2:80");

        // Just back: a tenth of its weight (1 of 11 picks); half way: about a third; after the period: half.
        Assert.InRange(ShareOfSecond(110), 8, 12);
        h.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.InRange(ShareOfSecond(150), 45, 55);
        h.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(50, ShareOfSecond(100));
    }

    [Fact]
    public async Task Without_slow_start_a_target_back_from_maint_takes_its_full_share_at_once()
    {
        await using var h = new Harness();
        h.ApplyPool(Two(TargetStates.Maint));
        var balancer = h.Balancer(h.ApplyPool(Two()), Algorithms.RoundRobin);
        Assert.Equal(50, Enumerable.Range(0, 100).Count(_ => balancer.PickOne()!.Address == "10.0.0.2:80"));
    }
}
