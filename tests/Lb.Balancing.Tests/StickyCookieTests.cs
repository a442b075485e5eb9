using Lb.Core.Spec;

namespace Lb.Balancing.Tests;

public sealed class StickyCookieTests
{
    [Theory]
    [InlineData("shop login", "rp_sticky_shop_login")]
    [InlineData("a:b/c d", "rp_sticky_a_b_c_d")]
    [InlineData("plain-id.v2", "rp_sticky_plain-id.v2")]
    public void Cookie_name_is_the_prefix_plus_the_route_id_with_colon_slash_and_space_replaced(string routeId, string expected) =>
        Assert.Equal(expected, StickyCookies.CookieName(routeId));

    [Fact]
    public void Set_cookie_without_options_is_the_reference_session_cookie() =>
        Assert.Equal("rp_sticky_r=v; Path=/; HttpOnly", StickyCookies.FormatSetCookie("rp_sticky_r", "v", null));

    [Fact]
    public void Set_cookie_carries_max_age_secure_and_same_site_when_configured()
    {
        var options = new StickyCookieSpec { Secure = true, SameSite = "none", MaxAge = "1h30m" };

        Assert.Equal("n=v; Path=/; Max-Age=5400; HttpOnly; Secure; SameSite=None", StickyCookies.FormatSetCookie("n", "v", options));
        Assert.EndsWith("; SameSite=Strict", StickyCookies.FormatSetCookie("n", "v", new StickyCookieSpec { SameSite = "strict" }), StringComparison.Ordinal);
        Assert.EndsWith("; SameSite=Lax", StickyCookies.FormatSetCookie("n", "v", new StickyCookieSpec { SameSite = "lax" }), StringComparison.Ordinal);
    }

    [Fact]
    public async Task First_request_is_pinned_and_the_same_cookie_hits_the_same_target_for_ten_thousand_requests()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("10.1.0.21:8080", "10.1.0.22:8080", "10.1.0.23:8080");
        var balancer = h.Balancer(pool, Algorithms.StickyCookie);

        var first = balancer.Pick(default);
        first.Target!.Complete(RequestOutcome.Success);
        Assert.NotNull(first.SetCookieValue);

        for (var i = 0; i < 10_000; i++)
        {
            var again = balancer.Pick(new PickContext { CookieValue = first.SetCookieValue });
            again.Target!.Complete(RequestOutcome.Success);
            Assert.Same(first.Target, again.Target);
            Assert.Null(again.SetCookieValue);
        }
    }

    [Fact]
    public async Task New_clients_are_spread_round_robin()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("a:1", "b:1", "c:1");
        var balancer = h.Balancer(pool, Algorithms.StickyCookie);

        var targets = Enumerable.Range(0, 3).Select(_ => balancer.PickOne()!.Address).ToArray();

        Assert.Equal(["a:1", "b:1", "c:1"], targets);
    }

    [Fact]
    public async Task Opaque_cookie_does_not_reveal_the_address_and_is_stable_for_the_same_key()
    {
        var key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        await using var h1 = new Harness(new BalancingOptions { StickyCookieKey = key });
        await using var h2 = new Harness(new BalancingOptions { StickyCookieKey = key });
        await using var other = new Harness(new BalancingOptions { StickyCookieKey = [.. key.Reverse()] });
        string Value(Harness h) => h.Balancer(h.ApplyPool("10.1.0.21:8080"), Algorithms.StickyCookie).Pick(default).SetCookieValue!;

        var value = Value(h1);

        Assert.Matches("^[0-9a-f]{16}$", value);
        Assert.DoesNotContain("10.1", value, StringComparison.Ordinal);
        Assert.Equal(value, Value(h2));
        Assert.NotEqual(value, Value(other));
    }

    [Fact]
    public async Task Address_mode_puts_the_address_in_the_cookie_like_the_reference()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("10.1.0.21:8080", "10.1.0.22:8080");
        var balancer = h.Balancer(pool, Algorithms.StickyCookie, new StickyCookieSpec { Value = "address" });

        var pick = balancer.Pick(default);
        pick.Target!.Complete(RequestOutcome.Success);
        Assert.Equal("10.1.0.21:8080", pick.SetCookieValue);

        var pinned = balancer.Pick(new PickContext { CookieValue = "10.1.0.22:8080" });
        Assert.Equal("10.1.0.22:8080", pinned.Target!.Address);
        Assert.Null(pinned.SetCookieValue);
    }

    [Fact]
    public async Task Unknown_cookie_value_is_re_pinned()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("a:1", "b:1");
        var balancer = h.Balancer(pool, Algorithms.StickyCookie);

        var pick = balancer.Pick(new PickContext { CookieValue = "a:1" });

        Assert.NotNull(pick.SetCookieValue);
    }

    [Fact]
    public async Task Unhealthy_sticky_target_falls_back_re_pins_and_the_new_pin_holds()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool("a:1", "b:1", "c:1");
        var balancer = h.Balancer(pool, Algorithms.StickyCookie);
        var first = balancer.Pick(default);
        first.Target!.Complete(RequestOutcome.Success);
        first.Target.ForceHealth(false);

        var moved = balancer.Pick(new PickContext { CookieValue = first.SetCookieValue });
        moved.Target!.Complete(RequestOutcome.Success);

        Assert.NotSame(first.Target, moved.Target);
        Assert.NotNull(moved.SetCookieValue);
        Assert.NotEqual(first.SetCookieValue, moved.SetCookieValue);
        for (var i = 0; i < 1000; i++)
        {
            Assert.Same(moved.Target, balancer.PickOne(new PickContext { CookieValue = moved.SetCookieValue }));
        }
    }

    [Fact]
    public async Task Stickiness_survives_a_config_push_and_a_removed_target_re_pins_only_its_clients()
    {
        await using var h = new Harness();
        var addresses = Configs.Addresses(4);
        var pool = h.ApplyPool(Configs.Specs(addresses));
        var balancer = h.Balancer(pool, Algorithms.StickyCookie);
        var clients = Enumerable.Range(0, 400).Select(_ =>
        {
            var p = balancer.Pick(default);
            p.Target!.Complete(RequestOutcome.Success);
            return (Cookie: p.SetCookieValue!, Address: p.Target.Address);
        }).ToArray();

        var removed = addresses[2];
        var newPool = h.ApplyPool(Configs.Specs(addresses.Where(a => a != removed)));
        var newBalancer = h.Balancer(newPool, Algorithms.StickyCookie);

        foreach (var (cookie, address) in clients)
        {
            var pick = newBalancer.Pick(new PickContext { CookieValue = cookie });
            pick.Target!.Complete(RequestOutcome.Success);
            if (address == removed)
            {
                Assert.NotEqual(removed, pick.Target.Address);
                Assert.NotNull(pick.SetCookieValue);
            }
            else
            {
                Assert.Equal(address, pick.Target.Address);
                Assert.Null(pick.SetCookieValue);
            }
        }
    }
}
