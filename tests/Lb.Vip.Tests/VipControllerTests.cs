using Lb.Core.Spec;
using Lb.Vip.Controller;

namespace Lb.Vip.Tests;

/// <summary>The controller's state machine against a fake driver and a fake leader lease, on fake time.</summary>
public sealed class VipControllerTests
{
    private const string Vip = Harness.Vip;
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(10);

    [Fact]
    public async Task Leader_with_a_valid_lease_adds_the_vip_at_once_and_announces_it_three_times_100ms_apart()
    {
        await using var h = new Harness();
        var lease = h.Grant();
        await h.StartAsync();

        await h.Until(() => h.Driver.Has(Vip), "VIP added");
        await h.AdvanceUntil(() => h.Driver.Count("announce") == 3, Step, "three announcements");
        await h.Settle(TimeSpan.FromSeconds(2));

        var add = h.Driver.Calls.Single(c => c.Op == "add");
        Assert.Equal(lease.AcquiredAt, add.At); // no blind wait: the lease already excludes an earlier owner
        var announces = h.Driver.Calls.Where(c => c.Op == "announce").Select(c => c.At).ToList();
        Assert.Equal(3, announces.Count);
        Assert.Equal(add.At, announces[0]);
        Assert.All(announces.Zip(announces.Skip(1)), p => Assert.True(p.Second - p.First >= TimeSpan.FromMilliseconds(100), $"gap {p.Second - p.First}"));
        Assert.Equal(VipState.Owned, h.Controller.State);
        var status = h.Controller.Current;
        Assert.True(status is { Enabled: true, Owned: true, Interface: "eth-test", Address: Vip, LastError: null });
        Assert.Equal(add.At, status.LastTransitionAt);
    }

    [Fact]
    public async Task Follower_never_adds_the_vip_and_removes_one_an_earlier_run_left_behind()
    {
        await using var h = new Harness();
        h.Driver.Preload(Vip);
        await h.StartAsync();

        await h.Until(() => h.Controller.State == VipState.Released, "released");
        await h.Settle(TimeSpan.FromSeconds(5));

        Assert.False(h.Driver.Has(Vip));
        Assert.Equal(["remove"], h.Driver.Calls.Select(c => c.Op));
        Assert.True(h.Controller.Current is { Enabled: true, Owned: false, LastError: null });
    }

    [Fact]
    public async Task Losing_the_lease_removes_the_vip_before_the_revocation_returns()
    {
        await using var h = new Harness();
        h.Grant();
        await h.StartAsync();
        await h.Until(() => h.Driver.Has(Vip), "VIP added");

        h.Leadership.Revoke();

        // No waiting: the removal runs inside the lease's cancellation, before another lease can be granted.
        Assert.False(h.Driver.Has(Vip));
        Assert.False(h.Controller.Current.Owned);
        await h.Until(() => h.Controller.State == VipState.Released, "released");
    }

    [Fact]
    public async Task Lease_lost_while_announcing_stops_the_announcements_and_removes_the_vip()
    {
        await using var h = new Harness();
        h.Grant();
        await h.StartAsync();
        await h.Until(() => h.Driver.Count("announce") == 1, "first announcement");

        h.Leadership.Revoke();
        await h.Settle(TimeSpan.FromSeconds(1));

        Assert.False(h.Driver.Has(Vip));
        Assert.Equal(1, h.Driver.Count("announce"));
    }

    [Fact]
    public async Task A_new_lease_after_stepping_down_takes_the_vip_again()
    {
        await using var h = new Harness();
        h.Grant();
        await h.StartAsync();
        await h.Until(() => h.Driver.Has(Vip), "VIP added");
        h.Leadership.Revoke();
        await h.Until(() => h.Controller.State == VipState.Released, "released");

        h.Grant();

        await h.Until(() => h.Driver.Has(Vip) && h.Controller.State == VipState.Owned, "VIP added again");
        Assert.Equal(["add", "remove", "add"], h.Driver.Calls.Where(c => c.Op is "add" or "remove").Select(c => c.Op).SkipWhile(op => op == "remove"));
    }

    [Fact]
    public async Task Flapping_leadership_ends_with_the_vip_exactly_where_the_last_lease_says()
    {
        await using var h = new Harness(new VipOptions { GarpCount = 1 });
        await h.StartAsync();
        var random = new Random(13);
        for (var i = 0; i < 200; i++)
        {
            if (random.Next(2) == 0)
            {
                h.Grant();
            }
            else
            {
                h.Leadership.Revoke();
            }
            if (random.Next(4) == 0)
            {
                await Task.Yield();
            }
            // The one safety property that must hold at every instant: no VIP without a valid lease.
            Assert.True(h.Leadership.CurrentLease is not null || !h.Driver.Has(Vip), $"VIP held without a lease at step {i}");
        }
        h.Grant();
        await h.Until(() => h.Driver.Has(Vip) && h.Controller.State == VipState.Owned, "settled as owner");
        h.Leadership.Revoke();
        await h.Until(() => h.Controller.State == VipState.Released, "settled as follower");
        Assert.False(h.Driver.Has(Vip));
        Assert.False(h.Controller.Current.Owned);
    }

    [Fact]
    public async Task Shutdown_removes_the_vip_and_stops()
    {
        var h = new Harness();
        h.Grant();
        await h.StartAsync();
        await h.Until(() => h.Driver.Has(Vip), "VIP added");

        await h.Controller.StopAsync(CancellationToken.None);

        Assert.False(h.Driver.Has(Vip));
        Assert.Equal(VipState.Stopped, h.Controller.State);
        Assert.False(h.Controller.Current.Owned);
        await h.DisposeAsync();
    }

    [Fact]
    public async Task Shutdown_leaves_the_vip_when_release_on_shutdown_is_off()
    {
        var h = new Harness(new VipOptions { ReleaseOnShutdown = false });
        h.Grant();
        await h.StartAsync();
        await h.Until(() => h.Driver.Has(Vip), "VIP added");

        await h.Controller.StopAsync(CancellationToken.None);

        Assert.True(h.Driver.Has(Vip));
        Assert.Equal(VipState.Stopped, h.Controller.State);
        await h.DisposeAsync();
    }

    [Fact]
    public async Task A_failed_add_shows_in_last_error_and_is_retried_until_it_works()
    {
        await using var h = new Harness();
        var failing = true;
        h.Driver.FailWith = op => op == "add" && failing ? "vip add failed: 10.250.13.100/24 on eth-test: Operation not permitted" : null;
        h.Grant();
        await h.StartAsync();

        await h.Until(() => h.Controller.Current.LastError is not null, "error reported");
        Assert.True(h.Controller.Current is { Owned: false, LastError: "vip add failed: 10.250.13.100/24 on eth-test: Operation not permitted" });
        Assert.Equal(VipState.Acquiring, h.Controller.State);

        failing = false;
        await h.AdvanceUntil(() => h.Driver.Has(Vip), TimeSpan.FromMilliseconds(500), "VIP added on retry");
        await h.AdvanceUntil(() => h.Controller.Current.LastError is null, Step, "error cleared after a full success");
        Assert.True(h.Controller.Current.Owned);
    }

    [Fact]
    public async Task A_failed_announcement_keeps_the_vip_and_shows_in_last_error()
    {
        await using var h = new Harness();
        h.Driver.FailWith = op => op == "announce" ? "vip garp announce failed: no CAP_NET_RAW" : null;
        h.Grant();
        await h.StartAsync();

        await h.AdvanceUntil(() => h.Driver.Count("announce") == 3, Step, "three attempts");
        await h.Until(() => h.Controller.Current.LastError is not null, "error reported");

        Assert.True(h.Controller.Current is { Owned: true, LastError: "vip garp announce failed: no CAP_NET_RAW" });
        Assert.True(h.Driver.Has(Vip));
    }

    [Fact]
    public async Task A_failed_removal_shows_in_last_error_and_is_retried()
    {
        await using var h = new Harness();
        h.Grant();
        await h.StartAsync();
        await h.Until(() => h.Driver.Has(Vip), "VIP added");
        var failing = true;
        h.Driver.FailWith = op => op == "remove" && failing ? "vip remove failed: interface busy" : null;

        h.Leadership.Revoke();

        await h.Until(() => h.Controller.Current.LastError == "vip remove failed: interface busy", "error reported");
        Assert.True(h.Controller.Current.Owned, "still believed on the interface");
        failing = false;
        await h.AdvanceUntil(() => !h.Driver.Has(Vip), TimeSpan.FromMilliseconds(500), "removed on retry");
        await h.Until(() => h.Controller.Current is { Owned: false, LastError: null }, "status clean");
    }

    [Fact]
    public async Task A_config_write_that_leaves_the_vip_settings_alone_does_not_touch_the_vip()
    {
        await using var h = new Harness();
        h.Grant();
        await h.StartAsync();
        await h.AdvanceUntil(() => h.Driver.Count("announce") == 3, Step, "owned and announced");
        var calls = h.Driver.Calls.Count(c => c.Op != "refresh");

        var config = ProxyConfig.Empty with { Routes = [new RouteSpec { Id = "web", Enabled = true, UpstreamPool = "web" }] };
        await h.Store.PutAsync(h.Store.Current.State with { Config = config }, cancellationToken: TestContext.Current.CancellationToken);
        await h.Until(() => h.Controller.ObservedVersion == h.Store.Current.Version, "write observed");
        await h.Settle(TimeSpan.FromSeconds(2));

        Assert.Equal(calls, h.Driver.Calls.Count(c => c.Op != "refresh"));
        Assert.True(h.Driver.Has(Vip));
        Assert.Equal(VipState.Owned, h.Controller.State);
    }

    [Fact]
    public async Task A_replicated_policy_with_a_new_address_moves_the_vip()
    {
        await using var h = new Harness();
        h.Grant();
        await h.StartAsync();
        await h.Until(() => h.Driver.Has(Vip), "VIP added");

        await h.Store.PutAsync(h.Store.Current.State with { Vip = new VipPolicy { Address = "10.250.13.101/24" } }, cancellationToken: TestContext.Current.CancellationToken);

        await h.Until(() => h.Driver.Has("10.250.13.101/24") && !h.Driver.Has(Vip), "VIP moved");
        Assert.Equal("10.250.13.101/24", h.Controller.Current.Address);
    }

    [Fact]
    public async Task Acquire_delay_when_set_is_waited_out_before_adding()
    {
        await using var h = new Harness(new VipOptions { AcquireDelay = TimeSpan.FromMilliseconds(300) });
        var lease = h.Grant();
        await h.StartAsync();

        await h.AdvanceUntil(() => h.Driver.Has(Vip), Step, "VIP added");

        Assert.True(h.Driver.Calls.Single(c => c.Op == "add").At - lease.AcquiredAt >= TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task Losing_the_lease_during_the_acquire_delay_never_adds_the_vip()
    {
        await using var h = new Harness(new VipOptions { AcquireDelay = TimeSpan.FromSeconds(1) });
        h.Grant();
        await h.StartAsync();
        await h.Until(() => h.Controller.State == VipState.Acquiring, "acquiring");

        h.Leadership.Revoke();
        await h.Settle(TimeSpan.FromSeconds(3));

        Assert.Equal(0, h.Driver.Count("add"));
        Assert.Equal(VipState.Released, h.Controller.State);
    }

    [Fact]
    public async Task While_owned_the_kernel_lifetime_is_renewed_so_only_a_dead_process_loses_the_address()
    {
        await using var h = new Harness(new VipOptions { AddressLifetime = TimeSpan.FromSeconds(2) });
        h.Grant();
        await h.StartAsync();
        await h.Until(() => h.Driver.Has(Vip), "VIP added");
        Assert.Equal(TimeSpan.FromSeconds(2), h.Driver.LastLifetime);

        await h.AdvanceUntil(() => h.Driver.Count("refresh") >= 4, TimeSpan.FromMilliseconds(100), "renewals");
        var refreshes = h.Driver.Calls.Where(c => c.Op is "add" or "refresh").Select(c => c.At).ToList();
        Assert.All(refreshes.Zip(refreshes.Skip(1)), p => Assert.True(p.Second - p.First <= TimeSpan.FromSeconds(1), $"gap {p.Second - p.First} leaves the 2 s lifetime too little slack"));

        h.Driver.Vanish(Vip); // deleted by hand: the next renewal puts it back
        await h.AdvanceUntil(() => h.Driver.Has(Vip), TimeSpan.FromMilliseconds(100), "put back");

        h.Leadership.Revoke();
        var after = h.Driver.Calls.Count;
        await h.Settle(TimeSpan.FromSeconds(3));
        Assert.DoesNotContain(h.Driver.Calls.Skip(after), c => c.Op is "add" or "refresh");
    }

    [Fact]
    public async Task A_leader_waking_from_a_pause_longer_than_the_lifetime_drops_the_vip_before_renewing_and_retakes_it_only_if_the_lease_survives()
    {
        await using var h = new Harness(new VipOptions { AddressLifetime = TimeSpan.FromSeconds(1) });
        h.Grant();
        await h.StartAsync();
        await h.Until(() => h.Driver.Has(Vip), "VIP added");
        await h.AdvanceUntil(() => h.Driver.Count("refresh") >= 1, TimeSpan.FromMilliseconds(50), "first renewal");
        var before = h.Driver.Calls.Count;

        // Frozen for 3 s: the next renewal timer fires 3 s late; the kernel has dropped the address by then.
        h.Driver.Vanish(Vip);
        h.Time.Advance(TimeSpan.FromSeconds(3));
        await h.Until(() => h.Driver.Calls.Count > before, "the controller reacting to the late timer");
        Assert.Equal("remove", h.Driver.Calls[before].Op);
        Assert.False(h.Controller.Current.Owned);

        // The lease survived a renewal period (nobody else leads): taken again, and announced.
        await h.AdvanceUntil(() => h.Driver.Has(Vip) && h.Driver.Count("announce") >= 4, TimeSpan.FromMilliseconds(50), "taken again");
        Assert.Equal(VipState.Owned, h.Controller.State);
    }

    [Fact]
    public async Task A_paused_leader_whose_lease_is_revoked_right_after_waking_never_puts_the_vip_back()
    {
        await using var h = new Harness(new VipOptions { AddressLifetime = TimeSpan.FromSeconds(1) });
        h.Grant();
        await h.StartAsync();
        await h.Until(() => h.Driver.Has(Vip), "VIP added");
        await h.AdvanceUntil(() => h.Driver.Count("refresh") >= 1, TimeSpan.FromMilliseconds(50), "first renewal");
        var before = h.Driver.Calls.Count;

        h.Time.Advance(TimeSpan.FromSeconds(3));
        await h.Until(() => !h.Driver.Has(Vip), "VIP dropped on waking");
        h.Leadership.Revoke(); // Raft, waking too, learns of the newer term and steps down
        await h.Settle(TimeSpan.FromSeconds(3));

        Assert.DoesNotContain(h.Driver.Calls.Skip(before), c => c.Op is "add" or "refresh");
        Assert.False(h.Driver.Has(Vip));
        Assert.Equal(VipState.Released, h.Controller.State);
    }

    [Fact]
    public async Task Without_an_address_the_controller_is_disabled_and_never_calls_the_driver()
    {
        await using var h = new Harness(vipAddress: "");
        h.Grant();
        await h.StartAsync();

        await h.Until(() => h.Controller.State == VipState.Disabled, "disabled");
        await h.Settle(TimeSpan.FromSeconds(1));

        Assert.Empty(h.Driver.Calls);
        Assert.True(h.Controller.Current is { Enabled: false, Owned: false, Address: null });
    }
}
