using Lb.Core.Spec;

namespace Lb.Balancing.Tests;

public sealed class PassiveHealthTests
{
    private static UpstreamPool Apply(Harness h, PassiveHealthSpec? passive, params UpstreamSpec[] targets) =>
        h.Registry.Apply(Configs.Config(("p", Configs.Pool(targets) with { PassiveHealth = passive }))).Pools["p"];

    private static void Fail(UpstreamTarget target, int times, RequestOutcome outcome = RequestOutcome.ConnectFailure)
    {
        for (var i = 0; i < times; i++)
        {
            target.Acquire();
            target.Complete(outcome);
        }
    }

    [Fact]
    public async Task Five_consecutive_connect_failures_eject_a_target_for_thirty_seconds_by_default()
    {
        await using var h = new Harness();
        var a = Apply(h, null, "a:1", "b:1").Targets[0];

        Fail(a, 4);
        Assert.True(a.IsAvailable);
        Fail(a, 1);

        Assert.False(a.IsAvailable);
        var status = a.GetStatus();
        Assert.False(status.Healthy);
        Assert.Equal(5, status.ConsecutiveFailures);
        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromSeconds(30), status.EjectedUntil);
        h.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(a.IsAvailable);
        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(a.IsAvailable);
        Assert.Null(a.GetStatus().EjectedUntil);
    }

    [Fact]
    public async Task A_success_resets_the_failure_streak()
    {
        await using var h = new Harness();
        var a = Apply(h, null, "a:1").Targets[0];

        Fail(a, 4);
        Fail(a, 1, RequestOutcome.Success);
        Fail(a, 4);

        Assert.True(a.IsAvailable);
        Assert.Equal(4, a.GetStatus().ConsecutiveFailures);
    }

    [Fact]
    public async Task A_failure_on_trial_re_ejects_with_doubling_back_off_capped_at_ten_times()
    {
        await using var h = new Harness();
        var a = Apply(h, new PassiveHealthSpec { ConsecutiveFailures = 3, EjectionTime = "10s" }, "a:1").Targets[0];
        Fail(a, 3);

        foreach (var seconds in new[] { 10, 20, 40, 80, 100, 100 })
        {
            Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromSeconds(seconds), a.GetStatus().EjectedUntil);
            h.Time.Advance(TimeSpan.FromSeconds(seconds));
            Assert.True(a.IsAvailable);
            Fail(a, 1);
            Assert.False(a.IsAvailable);
        }
    }

    [Fact]
    public async Task A_success_on_trial_ends_the_back_off()
    {
        await using var h = new Harness();
        var a = Apply(h, new PassiveHealthSpec { ConsecutiveFailures = 2, EjectionTime = "10s" }, "a:1").Targets[0];
        Fail(a, 2);
        h.Time.Advance(TimeSpan.FromSeconds(10));
        Fail(a, 1);
        h.Time.Advance(TimeSpan.FromSeconds(20));

        Fail(a, 1, RequestOutcome.Success);
        Fail(a, 1);
        Assert.True(a.IsAvailable);
        Fail(a, 1);

        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromSeconds(10), a.GetStatus().EjectedUntil);
    }

    [Fact]
    public async Task Server_errors_count_only_when_count_5xx_is_set()
    {
        await using var h = new Harness();
        var snapshot = h.Registry.Apply(Configs.Config(
            ("off", Configs.Pool("a:1")),
            ("on", Configs.Pool("b:1") with { PassiveHealth = new PassiveHealthSpec { Count5xx = true } })));
        var (a, b) = (snapshot.Pools["off"].Targets[0], snapshot.Pools["on"].Targets[0]);

        Fail(a, 10, RequestOutcome.ServerError5xx);
        Fail(b, 5, RequestOutcome.ServerError5xx);

        Assert.True(a.IsAvailable);
        Assert.False(b.IsAvailable);
    }

    [Fact]
    public async Task Timeouts_count_but_client_aborts_and_other_failures_do_not()
    {
        await using var h = new Harness();
        var pool = Apply(h, null, "a:1", "b:1");

        Fail(pool.Targets[0], 5, RequestOutcome.Timeout);
        Fail(pool.Targets[1], 10, RequestOutcome.ClientAborted);
        Fail(pool.Targets[1], 10, RequestOutcome.OtherFailure);

        Assert.False(pool.Targets[0].IsAvailable);
        Assert.True(pool.Targets[1].IsAvailable);
    }

    [Fact]
    public async Task Zero_consecutive_failures_turns_passive_health_off()
    {
        await using var h = new Harness();
        var a = Apply(h, new PassiveHealthSpec { ConsecutiveFailures = 0 }, "a:1").Targets[0];

        Fail(a, 100);

        Assert.True(a.IsAvailable);
    }

    [Fact]
    public async Task Balancers_route_around_an_ejected_target_and_take_it_back_when_the_ejection_ends()
    {
        await using var h = new Harness();
        var pool = Apply(h, null, "a:1", "b:1");
        var balancer = h.Balancer(pool, Algorithms.RoundRobin);
        Assert.Equal(2, RoundRobinTests.Count(balancer, 4).Count);
        Fail(pool.Targets[0], 5);

        Assert.Equal(["b:1"], RoundRobinTests.Count(balancer, 4).Keys);
        h.Time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(2, RoundRobinTests.Count(balancer, 4)["a:1"]);
    }

    [Fact]
    public async Task A_surplus_complete_never_drives_the_in_flight_count_below_zero()
    {
        await using var h = new Harness();
        var pool = Apply(h, null, "a:1");
        var target = h.Balancer(pool, Algorithms.LeastConnection).Pick(default).Target!;

        target.Complete(RequestOutcome.Success);
        target.Complete(RequestOutcome.Success);

        Assert.Equal(0, target.ActiveRequests);
    }

    [Fact]
    public async Task An_ejected_target_whose_checks_fail_then_rise_again_returns_at_once_with_its_back_off_reset()
    {
        await using var h = new Harness();
        var a = Apply(h, new PassiveHealthSpec { ConsecutiveFailures = 3, EjectionTime = "30s" }, "a:1").Targets[0];
        Fail(a, 3);
        Assert.False(a.IsAvailable);

        a.RecordProbe(false, "connection refused", h.Time.GetUtcNow(), rise: 2, fall: 1); // the backend is down
        a.RecordProbe(true, null, h.Time.GetUtcNow(), rise: 2, fall: 1);
        Assert.False(a.IsAvailable); // one pass is not the rise threshold
        a.RecordProbe(true, null, h.Time.GetUtcNow(), rise: 2, fall: 1);

        Assert.True(a.IsAvailable);
        var status = a.GetStatus();
        Assert.Equal(0, status.ConsecutiveFailures);
        Assert.Null(status.EjectedUntil);
        Fail(a, 3); // a fresh ejection starts again from the base time, not a doubled one
        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromSeconds(30), a.GetStatus().EjectedUntil);
    }

    [Fact]
    public async Task Checks_that_never_failed_do_not_lift_an_ejection_caused_by_live_traffic()
    {
        await using var h = new Harness();
        var a = Apply(h, new PassiveHealthSpec { ConsecutiveFailures = 3, EjectionTime = "30s" }, "a:1").Targets[0];
        a.RecordProbe(true, null, h.Time.GetUtcNow(), rise: 2, fall: 2);
        Fail(a, 3, RequestOutcome.Timeout);

        for (var i = 0; i < 5; i++)
        {
            a.RecordProbe(true, null, h.Time.GetUtcNow(), rise: 2, fall: 2);
        }

        Assert.False(a.IsAvailable); // /health answers but real requests time out: the ejection stands
    }
}
