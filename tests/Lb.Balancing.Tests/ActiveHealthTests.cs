using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace Lb.Balancing.Tests;

public sealed class ActiveHealthTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Targets_are_routable_before_the_first_probe_completes()
    {
        await using var h = new Harness();
        h.Handler.DefaultStatus = StubHealthHandler.Hang;
        var pool = h.ApplyChecked(Harness.Check(), "a:1");

        var status = pool.Targets[0].GetStatus();

        Assert.True(status.Healthy);
        Assert.Null(status.LastCheckedAt);
        Assert.Null(status.LastError);
    }

    [Fact]
    public async Task The_first_probe_decides_at_once_and_records_time_and_error()
    {
        await using var h = new Harness();
        h.Handler.Set("b:1", HttpStatusCode.ServiceUnavailable);
        var pool = h.ApplyChecked(Harness.Check(), "a:1", "b:1");
        var (a, b) = (pool.Targets[0], pool.Targets[1]);

        await h.AdvanceUntilAsync(() => a.ProbeCount >= 1 && b.ProbeCount >= 1, Step);

        Assert.True(a.IsAvailable);
        Assert.False(b.IsAvailable);
        var status = b.GetStatus();
        Assert.False(status.Healthy);
        Assert.Equal("unexpected status: 503", status.LastError);
        Assert.NotNull(status.LastCheckedAt);
        Assert.Null(a.GetStatus().LastError);
    }

    [Fact]
    public async Task Status_shows_a_rise_or_fall_streak_under_way_until_it_flips_the_verdict()
    {
        await using var h = new Harness();
        var a = h.ApplyPool("a:1").Targets[0]; // probes recorded by hand: no probe loop runs
        var now = h.Time.GetUtcNow();

        a.RecordProbe(true, null, now, rise: 2, fall: 3); // first verdict: healthy, no streak
        Assert.Null(a.GetStatus().CheckProgress);
        a.RecordProbe(false, "refused", now, rise: 2, fall: 3);
        a.RecordProbe(false, "refused", now, rise: 2, fall: 3);
        Assert.Equal(new HealthCheckProgress("falling", 2, 3), a.GetStatus().CheckProgress);
        Assert.Equal("2 of 3 checks failed", a.GetStatus().CheckProgress!.ToString());

        a.RecordProbe(false, "refused", now, rise: 2, fall: 3); // third failure: down, streak done
        Assert.False(a.IsAvailable);
        Assert.Null(a.GetStatus().CheckProgress);
        a.RecordProbe(true, null, now, rise: 2, fall: 3);
        Assert.Equal("1 of 2 checks passed", a.GetStatus().CheckProgress!.ToString());
        a.RecordProbe(true, null, now, rise: 2, fall: 3);
        Assert.True(a.IsAvailable);
        Assert.Null(a.GetStatus().CheckProgress);
    }

    [Fact]
    public async Task A_healthy_target_falls_only_after_three_failed_probes_by_default()
    {
        await using var h = new Harness();
        var pool = h.ApplyChecked(Harness.Check(), "a:1");
        var a = pool.Targets[0];
        await h.AdvanceUntilAsync(() => a.ProbeCount >= 1, Step);
        h.Handler.Set("a:1", HttpStatusCode.InternalServerError);

        for (var probe = 2; probe <= 3; probe++)
        {
            await h.AdvanceUntilAsync(() => a.ProbeCount >= probe, Step);
            Assert.True(a.IsAvailable, $"still healthy after {probe - 1} failed probes");
        }
        await h.AdvanceUntilAsync(() => a.ProbeCount >= 4, Step);

        Assert.False(a.IsAvailable);
    }

    [Fact]
    public async Task One_good_probe_between_failures_restarts_the_fall_count()
    {
        await using var h = new Harness();
        var pool = h.ApplyChecked(Harness.Check(), "a:1");
        var a = pool.Targets[0];
        await h.AdvanceUntilAsync(() => a.ProbeCount >= 1, Step);

        foreach (var (probe, status) in new[] { (2, 500), (3, 500), (4, 200), (5, 500), (6, 500) })
        {
            h.Handler.Set("a:1", (HttpStatusCode)status);
            await h.AdvanceUntilAsync(() => a.ProbeCount >= probe, Step);
            Assert.True(a.IsAvailable, $"probe {probe}");
        }
    }

    [Fact]
    public async Task An_unhealthy_target_rises_only_after_two_good_probes_by_default()
    {
        await using var h = new Harness();
        h.Handler.Set("a:1", HttpStatusCode.ServiceUnavailable);
        var pool = h.ApplyChecked(Harness.Check(), "a:1");
        var a = pool.Targets[0];
        await h.AdvanceUntilAsync(() => a.ProbeCount >= 1, Step);
        Assert.False(a.IsAvailable);
        h.Handler.Set("a:1", HttpStatusCode.OK);

        await h.AdvanceUntilAsync(() => a.ProbeCount >= 2, Step);
        Assert.False(a.IsAvailable);
        Assert.Null(a.GetStatus().LastError);
        await h.AdvanceUntilAsync(() => a.ProbeCount >= 3, Step);

        Assert.True(a.IsAvailable);
    }

    [Fact]
    public async Task Rise_and_fall_are_configurable()
    {
        await using var h = new Harness();
        var pool = h.ApplyChecked(Harness.Check(rise: 1, fall: 1), "a:1");
        var a = pool.Targets[0];
        await h.AdvanceUntilAsync(() => a.ProbeCount >= 1, Step);

        h.Handler.Set("a:1", HttpStatusCode.BadGateway);
        await h.AdvanceUntilAsync(() => a.ProbeCount >= 2, Step);
        Assert.False(a.IsAvailable);

        h.Handler.Set("a:1", HttpStatusCode.OK);
        await h.AdvanceUntilAsync(() => a.ProbeCount >= 3, Step);
        Assert.True(a.IsAvailable);
    }

    [Fact]
    public async Task A_probe_that_exceeds_the_timeout_fails_with_a_timeout_error()
    {
        await using var h = new Harness();
        h.Handler.Set("a:1", StubHealthHandler.Hang);
        var pool = h.ApplyChecked(Harness.Check(timeout: "1500ms"), "a:1");
        var a = pool.Targets[0];

        await h.AdvanceUntilAsync(() => a.ProbeCount >= 1, TimeSpan.FromMilliseconds(500));

        Assert.False(a.IsAvailable);
        Assert.Equal("Get \"http://a:1/healthz\": timeout after 1.5s", a.GetStatus().LastError);
    }

    [Fact]
    public async Task Probes_are_GETs_of_the_path_with_the_target_as_host_through_the_named_client()
    {
        await using var h = new Harness();
        var pool = h.ApplyChecked(Harness.Check(), "[fd00::5]:8080");
        await h.AdvanceUntilAsync(() => pool.Targets[0].ProbeCount >= 1, Step);

        Assert.True(h.Handler.Requests.TryPeek(out var request));
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("http://[fd00::5]:8080/healthz", request.RequestUri!.ToString());
        Assert.Equal("[fd00::5]:8080", request.Headers.Host);
        lock (h.Factory.Names)
        {
            Assert.All(h.Factory.Names, n => Assert.Equal(BalancingOptions.HealthCheckHttpClientName, n));
        }
    }

    [Fact]
    public async Task Targets_are_probed_every_interval_with_a_jittered_phase()
    {
        await using var h = new Harness();
        var addresses = Configs.Addresses(20);
        var pool = h.ApplyChecked(Harness.Check(interval: "10s"), Configs.Specs(addresses));
        var start = h.Time.GetUtcNow();

        await h.AdvanceUntilAsync(() => pool.Targets.All(t => t.ProbeCount >= 3), Step);

        // Fake time moves in 1 s steps while the probe loops run on real threads; on a loaded machine a loop can
        // re-arm its timer a step or two late, so allow three steps of slack on top of the interval.
        var slack = 3 * Step;
        var second = h.Handler.Log.GroupBy(e => e.Host).Select(g => g.Skip(1).First().At - start).ToArray();
        Assert.All(second, d => Assert.InRange(d, TimeSpan.Zero, TimeSpan.FromSeconds(10) + slack));
        Assert.True(second.Distinct().Count() >= 3, "second probes should not all fire in the same instant");
        var gaps = h.Handler.Log.GroupBy(e => e.Host).Select(g => g.Skip(2).First().At - g.Skip(1).First().At);
        Assert.All(gaps, g => Assert.InRange(g, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10) + slack));
    }

    [Fact]
    public async Task Removing_a_pool_stops_its_probes()
    {
        await using var h = new Harness();
        var pool = h.ApplyChecked(Harness.Check(), "a:1", "b:1");
        await h.AdvanceUntilAsync(() => pool.Targets.All(t => t.ProbeCount >= 2), Step);

        h.Registry.Apply(Configs.Config());
        var calls = h.Handler.TotalCalls;
        for (var i = 0; i < 50; i++)
        {
            h.Time.Advance(Step);
            await Task.Delay(2, TestContext.Current.CancellationToken);
        }

        Assert.InRange(h.Handler.TotalCalls, calls, calls + 2);
    }

    [Fact]
    public async Task Dropping_the_health_check_makes_targets_routable_again()
    {
        await using var h = new Harness();
        h.Handler.DefaultStatus = HttpStatusCode.ServiceUnavailable;
        var pool = h.ApplyChecked(Harness.Check(), "a:1");
        await h.AdvanceUntilAsync(() => pool.Targets[0].ProbeCount >= 1, Step);
        Assert.False(pool.Targets[0].IsAvailable);

        var again = h.ApplyPool("a:1");

        Assert.Same(pool.Targets[0], again.Targets[0]);
        Assert.True(again.Targets[0].IsAvailable);
        Assert.Null(again.Targets[0].GetStatus().LastCheckedAt);
    }

    [Fact]
    public async Task Changing_the_health_check_restarts_probing_but_keeps_the_verdict()
    {
        await using var h = new Harness();
        h.Handler.DefaultStatus = HttpStatusCode.ServiceUnavailable;
        var pool = h.ApplyChecked(Harness.Check(), "a:1");
        var a = pool.Targets[0];
        await h.AdvanceUntilAsync(() => a.ProbeCount >= 1, Step);
        h.Handler.DefaultStatus = HttpStatusCode.OK;

        var changed = h.ApplyChecked(Harness.Check(interval: "20s"), "a:1");

        Assert.Same(a, changed.Targets[0]);
        Assert.False(a.IsAvailable);
        Assert.Equal(TimeSpan.FromSeconds(20), changed.HealthCheck!.Interval);
        await h.AdvanceUntilAsync(() => a.ProbeCount >= 2, Step);
        Assert.False(a.IsAvailable);
        await h.AdvanceUntilAsync(() => a.ProbeCount >= 3, Step);
        Assert.True(a.IsAvailable);
    }

    [Fact]
    public async Task Health_transitions_are_counted_on_the_lb_balancing_meter()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        await using var _ = services;
        var meterFactory = services.GetRequiredService<IMeterFactory>();
        var measurements = new List<(long Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Lb.Balancing" && instrument.Name == "lb.upstream.health_transitions")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            lock (measurements)
            {
                measurements.Add((value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));
            }
        });
        listener.Start();
        await using var h = new Harness(meterFactory: meterFactory);
        h.Handler.Set("a:1", HttpStatusCode.ServiceUnavailable);
        var pool = h.ApplyChecked(Harness.Check(), "a:1", "b:1");

        await h.AdvanceUntilAsync(() => pool.Targets.All(t => t.ProbeCount >= 1), Step);
        await h.AdvanceUntilAsync(() => { lock (measurements) { return measurements.Count >= 1; } }, Step);

        var measurement = Assert.Single(measurements);
        Assert.Equal(1, measurement.Value);
        Assert.Equal("p", measurement.Tags["pool"]);
        Assert.Equal("a:1", measurement.Tags["target"]);
        Assert.Equal("unhealthy", measurement.Tags["to"]);
    }
}
