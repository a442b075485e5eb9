using System.Net;
using Lb.Core.Spec;

namespace Lb.Balancing.Tests;

public sealed class ReconcileTests
{
    [Fact]
    public async Task Surviving_targets_keep_health_in_flight_counts_and_ejections_across_a_config_push()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("a:1", "b:1", "c:1");
        var (a, b, c) = (pool.Targets[0], pool.Targets[1], pool.Targets[2]);
        b.ForceHealth(false);
        var lc = h.Balancer(pool, Algorithms.LeastConnection);
        lc.Pick(default);
        lc.Pick(default);
        for (var i = 0; i < 5; i++)
        {
            c.Acquire();
            c.Complete(RequestOutcome.ConnectFailure);
        }
        Assert.False(c.IsAvailable);

        var next = h.ApplyPool("a:1", "b:1", "c:1", "d:1");

        Assert.NotSame(pool, next);
        Assert.Same(a, next.Targets[0]);
        Assert.False(next.Targets[1].IsAvailable);
        Assert.Equal(1, next.Targets[0].ActiveRequests);
        Assert.False(next.Targets[2].IsAvailable);
        Assert.True(next.Targets[3].IsAvailable);
        // Least-connection on the new pool sees the carried-over count: a is busy, d is idle.
        Assert.Equal("d:1", h.Balancer(next, Algorithms.LeastConnection).Pick(default).Target!.Address);
    }

    [Fact]
    public async Task A_config_push_with_a_health_check_does_not_make_a_healthy_target_unhealthy_or_an_unhealthy_one_healthy()
    {
        await using var h = new Harness();
        h.Handler.Set("b:1", HttpStatusCode.ServiceUnavailable);
        var check = Harness.Check();
        var pool = h.ApplyChecked(check, "a:1", "b:1");
        await h.AdvanceUntilAsync(() => pool.Targets.All(t => t.ProbeCount >= 1), TimeSpan.FromSeconds(1));

        var next = h.Registry.Apply(Configs.Config(
            [Configs.Route("new-route", "p")],
            ("p", Configs.Pool("a:1", "b:1") with { HealthCheck = check, ConnectTimeout = "1s" }),
            ("other", Configs.Pool("x:1")))).Pools["p"];

        Assert.True(next.Targets[0].IsAvailable);
        Assert.False(next.Targets[1].IsAvailable);
        Assert.Equal("unexpected status: 503", next.Targets[1].GetStatus().LastError);
    }

    [Fact]
    public async Task Removed_targets_are_dropped_and_a_re_added_address_starts_fresh()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("a:1", "b:1");
        var b = pool.Targets[1];
        b.ForceHealth(false);

        var without = h.ApplyPool("a:1");
        var back = h.ApplyPool("a:1", "b:1");

        Assert.Single(without.Targets);
        Assert.NotSame(b, back.Targets[1]);
        Assert.True(back.Targets[1].IsAvailable);
    }

    [Fact]
    public async Task A_request_on_a_removed_target_can_still_complete()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("a:1");
        var target = h.Balancer(pool, Algorithms.RoundRobin).Pick(default).Target!;

        h.ApplyPool("b:1");
        target.Complete(RequestOutcome.Success);

        Assert.Equal(0, target.ActiveRequests);
    }

    [Fact]
    public async Task Round_robin_position_of_a_route_carries_over_a_config_push()
    {
        await using var h = new Harness();
        var config = Configs.Config([Configs.Route("r", "p")], ("p", Configs.Pool("a:1", "b:1", "c:1")));
        var pool = h.Registry.Apply(config).Pools["p"];
        Assert.Equal("a:1", h.Balancer(pool, Algorithms.RoundRobin).PickOne()!.Address);

        var next = h.Registry.Apply(config with { Routes = [Configs.Route("r", "p")] }).Pools["p"];

        Assert.Equal("b:1", h.Balancer(next, Algorithms.RoundRobin).PickOne()!.Address);
    }

    [Fact]
    public async Task The_hash_ring_is_reused_while_addresses_and_weights_are_unchanged()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("a:1", "b:1");
        h.Balancer(pool, Algorithms.FiveTupleHash);

        var same = h.ApplyPool("a:1", "b:1");
        var reweighted = h.ApplyPool("a:1", new UpstreamSpec("b:1", 2));

        Assert.Same(pool.ExistingRing, same.ExistingRing);
        Assert.Null(reweighted.ExistingRing);
        Assert.Equal(2, reweighted.Targets[1].Weight);
    }

    [Fact]
    public async Task Snapshot_lists_pools_by_id_and_finds_them_without_allocating()
    {
        await using var h = new Harness();

        var snapshot = h.Registry.Apply(Configs.Config(("zeta", Configs.Pool("z:1")), ("alpha", Configs.Pool("a:1")), ("Mid", Configs.Pool("m:1"))));

        Assert.Same(snapshot, h.Registry.Current);
        Assert.Equal(["Mid", "alpha", "zeta"], snapshot.Pools.Keys);
        Assert.True(snapshot.TryGetPool("alpha", out var alpha));
        Assert.Equal("a:1", alpha.Targets[0].Address);
        Assert.False(snapshot.TryGetPool("missing", out _));
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            snapshot.TryGetPool("zeta", out _);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1, snapshot.Generation);
        Assert.Equal(0, UpstreamSnapshot.Empty.Generation);
    }

    [Fact]
    public async Task Pool_settings_come_from_the_spec_with_documented_defaults()
    {
        await using var h = new Harness();

        var snapshot = h.Registry.Apply(Configs.Config(
            ("plain", Configs.Pool("a:1")),
            ("tuned", Configs.Pool("[fd00::5]:8080") with
            {
                ConnectTimeout = "500ms",
                ResponseTimeout = "2m",
                HealthCheck = new HealthCheckSpec { Path = "/h", Interval = "5s", Timeout = "1500ms", ExpectStatus = 204 },
                PassiveHealth = new PassiveHealthSpec { ConsecutiveFailures = 2, EjectionTime = "10s", Count5xx = true },
            })));
        var plain = snapshot.Pools["plain"];
        var tuned = snapshot.Pools["tuned"];

        Assert.Equal(TimeSpan.FromSeconds(3), plain.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), plain.ResponseTimeout);
        Assert.Null(plain.HealthCheck);
        Assert.Equal(new PassiveHealthSettings(5, TimeSpan.FromSeconds(30), false), plain.PassiveHealth);
        Assert.Equal(TimeSpan.FromMilliseconds(500), tuned.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), tuned.ResponseTimeout);
        Assert.Equal(new ActiveHealthCheckSettings("/h", TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(1500), 204, 2, 3), tuned.HealthCheck);
        Assert.Equal(new PassiveHealthSettings(2, TimeSpan.FromSeconds(10), true), tuned.PassiveHealth);
        Assert.Equal("fd00::5", tuned.Targets[0].Host);
        Assert.Equal(8080, tuned.Targets[0].Port);
    }

    [Fact]
    public async Task Apply_is_safe_from_many_threads_and_ends_with_a_consistent_snapshot()
    {
        await using var h = new Harness();
        var configs = Enumerable.Range(0, 8).Select(i => Configs.Config(("p", Configs.Pool(Configs.Specs(Configs.Addresses(i + 1)))))).ToArray();

        Parallel.For(0, 64, i => h.Registry.Apply(configs[i % configs.Length]));

        Assert.Equal(64, h.Registry.Current.Generation);
        var last = h.Registry.Apply(configs[7]).Pools["p"];
        Assert.Equal(8, last.Targets.Count);
    }

    [Fact]
    public async Task Apply_after_dispose_throws()
    {
        var h = new Harness();
        await h.DisposeAsync();

        Assert.Throws<ObjectDisposedException>(() => h.Registry.Apply(ProxyConfig.Empty));
    }
}

public sealed class PoolReuseTests
{
    [Fact]
    public async Task An_unchanged_pool_is_the_same_instance_in_the_next_snapshot_even_when_parsed_anew()
    {
        await using var h = new Harness();
        var check = Harness.Check();
        var first = h.Registry.Apply(Configs.Config(
            ("kept", Configs.Pool("a:1", "b:1") with { HealthCheck = check, ConnectTimeout = "1s" }),
            ("changed", Configs.Pool("c:1"))));

        // Equal content in new objects, as a replicated write delivers it; only "changed" differs.
        var second = h.Registry.Apply(Configs.Config(
            ("kept", Configs.Pool("a:1", "b:1") with { HealthCheck = Harness.Check(), ConnectTimeout = "1s" }),
            ("changed", Configs.Pool("c:1", "d:1"))));

        Assert.Same(first.Pools["kept"], second.Pools["kept"]);
        Assert.NotSame(first.Pools["changed"], second.Pools["changed"]);
        Assert.Same(first.Pools["changed"].Targets[0], second.Pools["changed"].Targets[0]);
    }

    [Theory]
    [InlineData("weight")]
    [InlineData("health_check")]
    [InlineData("passive_health")]
    [InlineData("response_timeout")]
    public async Task A_pool_whose_settings_changed_is_rebuilt(string what)
    {
        await using var h = new Harness();
        var spec = Configs.Pool("a:1", "b:1");
        var first = h.Registry.Apply(Configs.Config(("p", spec))).Pools["p"];
        var changed = what switch
        {
            "weight" => spec with { Upstreams = [new UpstreamSpec("a:1", 2), "b:1"] },
            "health_check" => spec with { HealthCheck = Harness.Check() },
            "passive_health" => spec with { PassiveHealth = new PassiveHealthSpec { ConsecutiveFailures = 2 } },
            _ => spec with { ResponseTimeout = "5s" },
        };

        var second = h.Registry.Apply(Configs.Config(("p", changed))).Pools["p"];

        Assert.NotSame(first, second);
        Assert.Same(first.Targets[1], second.Targets[1]);
    }
}

public sealed class StickyKeyTests
{
    [Fact]
    public async Task Registries_given_the_same_key_issue_the_same_cookie_values_and_a_new_key_changes_them()
    {
        await using var one = new Harness();
        await using var two = new Harness();
        var key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        one.Registry.UseStickyKey(key);
        var before = two.ApplyPool("a:1", "b:1").Targets.Select(t => t.OpaqueToken).ToList();
        two.Registry.UseStickyKey(key);

        var tokensOne = one.ApplyPool("a:1", "b:1").Targets.Select(t => t.OpaqueToken).ToList();
        var tokensTwo = two.Registry.Current.Pools["p"].Targets.Select(t => t.OpaqueToken).ToList();

        Assert.Equal(tokensOne, tokensTwo);
        Assert.NotEqual(before, tokensTwo);
    }

    [Fact]
    public async Task A_configured_key_wins_over_the_hosts_key()
    {
        var configured = Enumerable.Repeat((byte)7, 16).ToArray();
        await using var h = new Harness(new BalancingOptions { StickyCookieKey = configured });
        var before = h.ApplyPool("a:1").Targets[0].OpaqueToken;

        h.Registry.UseStickyKey(Enumerable.Repeat((byte)9, 32).ToArray());

        Assert.Equal(before, h.Registry.Current.Pools["p"].Targets[0].OpaqueToken);
    }
}
