using System.Text;
using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Core.Validation;

namespace Lb.Balancing.Tests;

/// <summary>Cookie persistence in prefix and rewrite mode: the key handling both proxies share.</summary>
public sealed class CookieModeTests
{
    private static readonly StickyCookieSpec Prefix = new() { Mode = StickyCookieModes.Prefix, Name = "JSESSIONID" };
    private static readonly StickyCookieSpec Rewrite = new() { Mode = StickyCookieModes.Rewrite, Name = "SERVERID", HttpOnly = true, Secure = true, SameSite = "lax" };

    [Theory]
    [InlineData("JSESSIONID=abc; Path=/", "JSESSIONID=k1~abc; Path=/")]
    [InlineData("JSESSIONID=abc; Path=/; HttpOnly", "JSESSIONID=k1~abc; Path=/; HttpOnly")]
    [InlineData("OTHER=abc; Path=/", null)]
    [InlineData("JSESSIONIDX=abc", null)]
    public void Prefix_puts_the_key_in_front_of_the_application_value_of_that_cookie_only(string setCookie, string? expected) =>
        Assert.Equal(expected, StickyCookies.RewriteSetCookie(setCookie, "JSESSIONID", "k1", Prefix));

    [Fact]
    public void Rewrite_replaces_the_value_and_adds_the_configured_attributes_once() =>
        Assert.Equal("SERVERID=k1; Path=/; HttpOnly; Secure; SameSite=Lax", StickyCookies.RewriteSetCookie("SERVERID=; Path=/", "SERVERID", "k1", Rewrite));

    [Theory]
    [InlineData("JSESSIONID=k1~abc", "JSESSIONID=abc")]
    [InlineData("theme=dark; JSESSIONID=k1~abc; lang=ko", "theme=dark; JSESSIONID=abc; lang=ko")]
    [InlineData("JSESSIONID=abc", null)]
    [InlineData("XJSESSIONID=k1~abc", null)]
    public void Prefix_is_stripped_from_the_request_cookie_before_the_application_sees_it(string header, string? expected) =>
        Assert.Equal(expected, StickyCookies.StripPrefix(header, "JSESSIONID"));

    [Fact]
    public async Task A_prefixed_cookie_pins_the_client_and_every_pick_carries_the_key()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool(Configs.Specs(Configs.Addresses(3)));
        var route = Configs.Route("r", pool.Id, Algorithms.StickyCookie, Prefix);
        var balancer = h.Policies.CreateBalancer(route, pool);
        Assert.Equal("JSESSIONID", h.Policies.Get(route).GetInputs(route).CookieName);

        var first = balancer.Pick(default);
        first.Target!.Complete(RequestOutcome.Success);
        for (var i = 0; i < 5; i++)
        {
            var again = balancer.Pick(new PickContext { CookieValue = first.SetCookieValue + "~app-session" });
            again.Target!.Complete(RequestOutcome.Success);
            Assert.Same(first.Target, again.Target);
            Assert.Equal(first.SetCookieValue, again.SetCookieValue);
        }
    }

    private static ProxyConfig Parse(string route)
    {
        var json = "{\"routes\":[" + route + "],\"upstream_pools\":{\"p\":{\"upstreams\":[\"10.0.0.1:80\"]}}}";
        var result = DesiredStateJson.ParseConfig(Encoding.UTF8.GetBytes(json));
        Assert.True(result.Succeeded, result.Detail);
        return result.Value!;
    }

    [Theory]
    [InlineData("""{"mode":"append"}""", "routes[0].sticky_cookie.mode")]
    [InlineData("""{"mode":"prefix"}""", "routes[0].sticky_cookie.name")]
    [InlineData("""{"mode":"rewrite","name":"SERVER ID"}""", "routes[0].sticky_cookie.name")]
    [InlineData("""{"mode":"prefix","name":"JSESSIONID","max_age":"1h"}""", "routes[0].sticky_cookie.max_age")]
    public void Cookie_modes_are_validated_with_field_paths(string sticky, string field)
    {
        var error = Assert.Single(DesiredStateValidator.Validate(Parse("""{"id":"r","algorithm":"sticky_cookie","upstream_pool":"p","sticky_cookie":""" + sticky + "}"),
            algorithms: LoadBalancingPolicies.CreateDefault()).Errors);
        Assert.Equal(field, error.Field);
        Assert.Equal(ValidationCodes.InvalidStickyCookie, error.Code);
    }
}
