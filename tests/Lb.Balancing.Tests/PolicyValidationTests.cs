using System.Text;
using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.Core.Validation;
using Lb.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Lb.Balancing.Tests;

/// <summary>Each policy brings its own validation rules; validation asks the registered policies.</summary>
public sealed class PolicyValidationTests
{
    private static ProxyConfig Parse(string route)
    {
        var json = "{\"routes\":[{\"id\":\"ok\",\"upstream_pool\":\"p\"}," + route + "],\"upstream_pools\":{\"p\":{\"upstreams\":[\"10.0.0.1:80\"]}}}";
        var result = DesiredStateJson.ParseConfig(Encoding.UTF8.GetBytes(json));
        Assert.True(result.Succeeded, result.Detail);
        return result.Value!;
    }

    public static TheoryData<string, string, string, string> StickyCookieRules => new()
    {
        { "options on a policy that reads no cookie", """{"id":"r","upstream_pool":"p","sticky_cookie":{"secure":true}}""", "routes[1].sticky_cookie", ValidationCodes.InvalidStickyCookie },
        { "value mode", """{"id":"r","algorithm":"sticky_cookie","upstream_pool":"p","sticky_cookie":{"value":"plain"}}""", "routes[1].sticky_cookie.value", ValidationCodes.InvalidStickyCookie },
        { "same_site none without secure", """{"id":"r","algorithm":"sticky_cookie","upstream_pool":"p","sticky_cookie":{"same_site":"none"}}""", "routes[1].sticky_cookie.same_site", ValidationCodes.InvalidStickyCookie },
        { "same_site value", """{"id":"r","algorithm":"sticky_cookie","upstream_pool":"p","sticky_cookie":{"same_site":"loose"}}""", "routes[1].sticky_cookie.same_site", ValidationCodes.InvalidStickyCookie },
        { "max_age negative", """{"id":"r","algorithm":"sticky_cookie","upstream_pool":"p","sticky_cookie":{"max_age":"-1h"}}""", "routes[1].sticky_cookie.max_age", ValidationCodes.NonPositiveDuration },
        { "max_age syntax", """{"id":"r","algorithm":"sticky_cookie","upstream_pool":"p","sticky_cookie":{"max_age":"1 day"}}""", "routes[1].sticky_cookie.max_age", ValidationCodes.InvalidDuration },
    };

    [Theory]
    [MemberData(nameof(StickyCookieRules))]
    public void Sticky_cookie_options_are_judged_by_the_policies(string rule, string route, string field, string code)
    {
        var result = DesiredStateValidator.Validate(Parse(route), algorithms: LoadBalancingPolicies.CreateDefault());
        var error = Assert.Single(result.Errors);
        Assert.True(error.Field == field && error.Code == code, $"{rule}: got {error.Field} {error.Code}");
        Assert.False(string.IsNullOrWhiteSpace(error.Hint));
    }

    [Fact]
    public void Valid_sticky_cookie_options_pass()
    {
        var route = """{"id":"r","algorithm":"sticky_cookie","upstream_pool":"p","sticky_cookie":{"value":"address","same_site":"none","secure":true,"max_age":"1h"}}""";
        Assert.True(DesiredStateValidator.Validate(Parse(route), algorithms: LoadBalancingPolicies.CreateDefault()).IsValid);
    }

    [Fact]
    public void A_custom_policy_name_is_accepted_and_its_own_rule_applied_once_registered()
    {
        var route = """{"id":"r","algorithm":"tenant_hash","upstream_pool":"p"}""";
        Assert.Contains(DesiredStateValidator.Validate(Parse(route), algorithms: LoadBalancingPolicies.CreateDefault()).Errors,
            e => e.Field == "routes[1].algorithm" && e.Code == ValidationCodes.UnknownAlgorithm);

        var withCustom = new LoadBalancingPolicies([new RoundRobinPolicy(), new TenantHashPolicy()]);
        var error = Assert.Single(DesiredStateValidator.Validate(Parse(route), algorithms: withCustom).Errors);
        Assert.Equal("routes[1].match.hosts", error.Field);
        Assert.True(DesiredStateValidator.Validate(Parse("""{"id":"r","algorithm":"tenant_hash","match":{"hosts":["a.example"]},"upstream_pool":"p"}"""), algorithms: withCustom).IsValid);
    }

    [Fact]
    public async Task The_store_registered_by_AddLoadBalancer_validates_with_the_registered_policies()
    {
        using var dir = new TempDirectory();
        var services = new ServiceCollection().AddLogging();
        services.AddLoadBalancer(configure: o => o.RaftDataDir = dir.Path).AddBalancingPolicy<TenantHashPolicy>();
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IDesiredStateStore>();

        var accepted = await store.PutAsync(new DesiredState { Config = Parse("""{"id":"r","algorithm":"tenant_hash","match":{"hosts":["a.example"]},"upstream_pool":"p"}""") }, cancellationToken: TestContext.Current.CancellationToken);
        var refused = await store.PutAsync(new DesiredState { Config = Parse("""{"id":"r","algorithm":"tenant_hash","upstream_pool":"p"}""") }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(StoreWriteStatus.Applied, accepted.Status);
        Assert.Equal(StoreWriteStatus.Invalid, refused.Status);
        Assert.Equal("routes[1].match.hosts", Assert.Single(refused.Validation!.Errors).Field);
    }

    /// <summary>Hashes a tenant header; refuses routes without hosts (its own rule).</summary>
    private sealed class TenantHashPolicy : ILoadBalancingPolicy
    {
        public string Name => "tenant_hash";

        public PickInputs GetInputs(RouteSpec route) => new() { HeaderName = "X-Tenant" };

        public void Validate(RouteSpec route, string path, ICollection<ValidationError> errors)
        {
            if (route.Match.Hosts.Count == 0)
            {
                errors.Add(new ValidationError(path + ".match.hosts", "tenant_hash_needs_hosts", "tenant_hash routes must name their hosts", "add the tenant's host names"));
            }
        }

        public IRouteBalancer CreateBalancer(RouteSpec route, UpstreamPool pool) => new RoundRobinPolicy().CreateBalancer(route, pool);
    }
}
