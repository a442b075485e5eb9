using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Lb.Balancing;
using Lb.Core.Spec;
using Lb.Core.Validation;
using Lb.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Lb.AspNetCore.Tests;

/// <summary>A policy registered by name works end to end: validation accepts it and applies its rules, the proxy hands it what it declares.</summary>
public abstract class CustomPolicyTests(ProxyPath path) : ProxyPathTests(path)
{
    private static string Config(string blue, string green, bool withHosts) =>
        ("""{"routes":[{"id":"tenants","enabled":true,"match":{"hosts":[HOSTS]},"algorithm":"tenant","upstream_pool":"p"}],"""
        + "\"upstream_pools\":{\"p\":{\"upstreams\":[\"BLUE\",\"GREEN\"]}}}")
            .Replace("HOSTS", withHosts ? "\"app.test\"" : "", StringComparison.Ordinal)
            .Replace("BLUE", blue, StringComparison.Ordinal).Replace("GREEN", green, StringComparison.Ordinal);

    [Fact]
    public async Task A_custom_policy_registered_by_name_validates_and_balances_end_to_end()
    {
        await using var blue = await TestBackend.StartAsync("blue");
        await using var green = await TestBackend.StartAsync("green");
        TenantPolicy.Seen.Clear(); // static: the other path's run (same collection, one after the other) filled it
        await using var lb = await StartLbAsync(b => b.AddBalancingPolicy<TenantPolicy>());

        // Its own rule, reported like any other validation error, by the validate endpoint and by the store.
        using (var validate = await lb.Client.PostAsync("/api/config/validate", new StringContent(Config(blue.Address, green.Address, withHosts: false), Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, validate.StatusCode);
            Assert.Contains("\"field\":\"routes[0].match.hosts\",\"message\":\"tenant routes must name their hosts\",\"code\":\"tenant_needs_hosts\"", await validate.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        }
        using (var refused = await lb.PutConfigAsync(Config(blue.Address, green.Address, withHosts: false)))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        }
        using (var accepted = await lb.PutConfigAsync(Config(blue.Address, green.Address, withHosts: true)))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        Assert.Equal("blue", await lb.ProxyAsync("app.test", adjust: r => r.Headers.Add("X-Tenant", "blue")));
        Assert.Equal("green", await lb.ProxyAsync("app.test", adjust: r => r.Headers.Add("X-Tenant", "acme")));
        Assert.Equal("blue", await lb.ProxyAsync("app.test", adjust: r =>
        {
            r.Headers.Add("X-Tenant", "blue");
            r.Headers.Add("Cookie", "rp_sticky_tenants=whatever");
        }));

        // It received its header and nothing it did not declare (no client or local address, no cookie, no protocol).
        Assert.Equal(["blue", "acme", "blue"], TenantPolicy.Seen.Select(s => s.Header));
        Assert.All(TenantPolicy.Seen, s => Assert.Equal((false, false, false, false), (s.HasClient, s.HasLocal, s.HasCookie, s.HasProtocol)));
    }

    /// <summary>Sends tenant <c>blue</c> to the first target and every other tenant to the second.</summary>
    private sealed class TenantPolicy : ILoadBalancingPolicy
    {
        public static ConcurrentQueue<(string? Header, bool HasClient, bool HasLocal, bool HasCookie, bool HasProtocol)> Seen { get; } = new();

        public string Name => "tenant";

        public PickInputs GetInputs(RouteSpec route) => new() { HeaderName = "X-Tenant" };

        public void Validate(RouteSpec route, string path, ICollection<ValidationError> errors)
        {
            if (route.Match.Hosts.Count == 0)
            {
                errors.Add(new ValidationError(path + ".match.hosts", "tenant_needs_hosts", "tenant routes must name their hosts", "add the tenants' host names"));
            }
        }

        public IRouteBalancer CreateBalancer(RouteSpec route, UpstreamPool pool) => new Balancer(pool);

        private sealed class Balancer(UpstreamPool pool) : IRouteBalancer
        {
            public PickResult Pick(in PickContext context)
            {
                Seen.Enqueue((context.HeaderValue, context.ClientAddress is not null, context.LocalAddress is not null, context.CookieValue is not null, context.Protocol is not null));
                var target = pool.Targets[context.HeaderValue == "blue" ? 0 : 1];
                target.Acquire();
                return new PickResult(target);
            }
        }
    }
}

// One after the other: the policy records what it saw in a static list.
[CollectionDefinition(nameof(CustomPolicyCollection), DisableParallelization = true)]
public sealed class CustomPolicyCollection;

[Collection(nameof(CustomPolicyCollection))]
public sealed class CustomPolicyTestsOnYarpPath() : CustomPolicyTests(ProxyPath.Yarp);

[Collection(nameof(CustomPolicyCollection))]
public sealed class CustomPolicyTestsOnFastPath() : CustomPolicyTests(ProxyPath.Fast);

[Collection(nameof(CustomPolicyCollection))]
public sealed class CustomPolicyTestsOnLoopPath() : CustomPolicyTests(ProxyPath.Loop);
