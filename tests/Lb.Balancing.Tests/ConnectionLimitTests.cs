using Lb.Core.Spec;

namespace Lb.Balancing.Tests;

/// <summary>Per-target <c>max_connections</c> as every balancer sees it, and the pool queue.</summary>
public sealed class ConnectionLimitTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static UpstreamPool Limited(Harness h, int max, int? firstOverride = null) =>
        h.Registry.Apply(Configs.Config(("p", Configs.Pool(new UpstreamSpec("10.0.0.1:80") { MaxConnections = firstOverride }, new UpstreamSpec("10.0.0.2:80")) with { MaxConnections = max }))).Pools["p"];

    private static PickContext Request => FiveTupleHashTests.Flow(7) with { Path = "/same", CookieValue = null };

    [Theory]
    [InlineData(Algorithms.RoundRobin)]
    [InlineData(Algorithms.LeastConnection)]
    [InlineData(Algorithms.Random)]
    [InlineData(Algorithms.Source)]
    [InlineData(Algorithms.Uri)]
    [InlineData(Algorithms.FiveTupleHash)]
    [InlineData(Algorithms.StickyCookie)]
    public async Task A_target_at_its_limit_is_skipped_while_another_has_room_and_none_is_picked_when_all_are_full(string algorithm)
    {
        await using var h = new Harness();
        var pool = Limited(h, max: 1);
        var balancer = h.Balancer(pool, algorithm);
        var first = balancer.Pick(Request).Target!;
        var second = balancer.Pick(Request).Target!;
        Assert.NotSame(first, second);
        Assert.Null(balancer.Pick(Request).Target);
        Assert.True(pool.AllAtLimit);

        first.Complete(RequestOutcome.Success);
        var third = balancer.Pick(Request).Target;
        Assert.Same(first, third);
        third!.Complete(RequestOutcome.Success);
        second.Complete(RequestOutcome.Success);
        Assert.Equal((0, 0), (pool.Targets[0].ActiveRequests, pool.Targets[1].ActiveRequests));
    }

    [Fact]
    public async Task An_upstream_limit_overrides_the_pool_default()
    {
        await using var h = new Harness();
        var pool = Limited(h, max: 1, firstOverride: 3);
        Assert.Equal((3, 1), (pool.Targets[0].MaxConnections, pool.Targets[1].MaxConnections));
        var balancer = h.Balancer(pool, Algorithms.RoundRobin);
        var picked = Enumerable.Range(0, 5).Select(_ => balancer.Pick(default).Target).ToArray();
        Assert.Equal(4, picked.Count(t => t is not null));
        Assert.Equal(3, pool.Targets[0].ActiveRequests);
    }

    [Fact]
    public async Task A_pool_without_limits_never_reports_all_at_limit()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool(new UpstreamSpec("10.0.0.1:80"));
        var balancer = h.Balancer(pool, Algorithms.RoundRobin);
        for (var i = 0; i < 100; i++)
        {
            Assert.NotNull(balancer.Pick(default).Target);
        }
        Assert.False(pool.AllAtLimit);
        Assert.Equal(0, pool.Targets[0].MaxConnections);
    }

    [Fact]
    public async Task Queued_requests_are_served_in_arrival_order_as_slots_free_and_time_out_after_queue_timeout()
    {
        await using var h = new Harness();
        var pool = h.Registry.Apply(Configs.Config(("p", Configs.Pool(new UpstreamSpec("10.0.0.1:80")) with { MaxConnections = 1, QueueTimeout = Duration.Parse("10s") }))).Pools["p"];
        var balancer = h.Balancer(pool, Algorithms.RoundRobin);
        var held = balancer.Pick(default).Target!;
        var queue = pool.Queue;
        var a = queue.WaitAsync(balancer, default, pool.QueueSize, pool.QueueTimeout, CancellationToken.None).AsTask();
        var b = queue.WaitAsync(balancer, default, pool.QueueSize, pool.QueueTimeout, CancellationToken.None).AsTask();
        Assert.Equal(2, queue.Waiting);
        Assert.False(a.IsCompleted || b.IsCompleted);

        held.Complete(RequestOutcome.Success);
        var (aResult, aPick) = await a.WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.Equal(QueueResult.Picked, aResult);
        Assert.Equal(1, queue.Waiting);
        Assert.False(b.IsCompleted);

        aPick.Target!.Complete(RequestOutcome.ClientAborted);
        var (bResult, bPick) = await b.WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.Equal(QueueResult.Picked, bResult);

        // Nothing frees the slot b holds: the next request waits out queue_timeout.
        var c = queue.WaitAsync(balancer, default, pool.QueueSize, pool.QueueTimeout, CancellationToken.None).AsTask();
        Assert.Equal(1, queue.Waiting);
        await h.AdvanceUntilAsync(() => c.IsCompleted, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        Assert.Equal(QueueResult.TimedOut, (await c).Result);
        Assert.Equal((0, 2, 1L), (queue.Waiting, queue.MaxWaiting, queue.TimedOut));
        bPick.Target!.Complete(RequestOutcome.Success);
        Assert.Equal(0, pool.Targets[0].ActiveRequests);
    }

    [Fact]
    public async Task Raising_the_limit_in_a_new_configuration_serves_the_waiting_requests()
    {
        await using var h = new Harness();
        UpstreamPool Apply(int max) => h.Registry.Apply(Configs.Config(("p", Configs.Pool(new UpstreamSpec("10.0.0.1:80")) with { MaxConnections = max, QueueTimeout = Duration.Parse("1h") }))).Pools["p"];
        var pool = Apply(1);
        var balancer = h.Balancer(pool, Algorithms.RoundRobin);
        var held = balancer.Pick(default).Target!;
        var waiting = pool.Queue.WaitAsync(balancer, default, pool.QueueSize, pool.QueueTimeout, CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);

        Apply(2);
        var (result, pick) = await waiting.WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.Equal(QueueResult.Picked, result);
        Assert.Same(held, pick.Target);
        Assert.Equal(2, held.ActiveRequests);
    }

    [Fact]
    public async Task A_target_turning_healthy_serves_the_waiting_requests()
    {
        await using var h = new Harness();
        var pool = h.Registry.Apply(Configs.Config(("p", Configs.Pool(new UpstreamSpec("10.0.0.1:80"), new UpstreamSpec("10.0.0.2:80")) with { MaxConnections = 1, QueueTimeout = Duration.Parse("1h") }))).Pools["p"];
        var (up, down) = (pool.Targets[0], pool.Targets[1]);
        down.RecordProbe(false, "connection refused", h.Time.GetUtcNow(), rise: 1, fall: 1);
        var balancer = h.Balancer(pool, Algorithms.RoundRobin);
        var held = balancer.Pick(default).Target!;
        Assert.Same(up, held);
        var waiting = pool.Queue.WaitAsync(balancer, default, pool.QueueSize, pool.QueueTimeout, CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);

        down.RecordProbe(true, null, h.Time.GetUtcNow(), rise: 1, fall: 1);
        var (result, pick) = await waiting.WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.Equal(QueueResult.Picked, result);
        Assert.Same(down, pick.Target);
        Assert.Equal(1, up.ActiveRequests);
    }

    [Fact]
    public async Task A_full_queue_refuses_at_once_and_a_cancelled_waiter_leaves_the_queue()
    {
        await using var h = new Harness();
        var pool = h.Registry.Apply(Configs.Config(("p", Configs.Pool(new UpstreamSpec("10.0.0.1:80")) with { MaxConnections = 1, QueueSize = 1 }))).Pools["p"];
        var balancer = h.Balancer(pool, Algorithms.LeastConnection);
        var held = balancer.Pick(default).Target!;
        using var cancel = new CancellationTokenSource();
        var waiting = pool.Queue.WaitAsync(balancer, default, pool.QueueSize, pool.QueueTimeout, cancel.Token).AsTask();
        var (full, _) = await pool.Queue.WaitAsync(balancer, default, pool.QueueSize, pool.QueueTimeout, CancellationToken.None);
        Assert.Equal((QueueResult.Full, 1L), (full, pool.Queue.Rejected));

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Bound, TestContext.Current.CancellationToken));
        Assert.Equal(0, pool.Queue.Waiting);
        held.Complete(RequestOutcome.Success);
        Assert.NotNull(balancer.Pick(default).Target);
    }
}
