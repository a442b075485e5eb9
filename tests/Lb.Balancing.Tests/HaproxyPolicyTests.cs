using System.Net;
using System.Text;
using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Core.Validation;

namespace Lb.Balancing.Tests;

/// <summary>The policies named after HAProxy's balance algorithms: source, uri, url_param, hdr and random.</summary>
public sealed class HaproxyPolicyTests
{
    private static PickContext Client(int i, int port = 40000) => new() { ClientAddress = new IPAddress(BitConverter.GetBytes(0x0A000000 + i)), ClientPort = port };

    private static IRouteBalancer Balancer(Harness h, UpstreamPool pool, string algorithm, string? hashKey = null) =>
        h.Policies.CreateBalancer(Configs.Route("r", pool.Id, algorithm) with { HashKey = hashKey }, pool);

    [Fact]
    public async Task Source_sends_every_connection_of_one_client_to_one_target_and_spreads_clients()
    {
        await using var h = new Harness();
        var balancer = Balancer(h, h.ApplyPool(Configs.Specs(Configs.Addresses(4))), Algorithms.Source);
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < 2000; i++)
        {
            var target = balancer.PickOne(Client(i))!;
            Assert.Same(target, balancer.PickOne(Client(i, port: 50000 + i % 1000)));
            counts[target.Address] = counts.GetValueOrDefault(target.Address) + 1;
        }
        Assert.Equal(4, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 300, 700));
    }

    [Fact]
    public async Task Source_is_consistent_removing_a_target_moves_only_its_clients()
    {
        await using var h = new Harness();
        var addresses = Configs.Addresses(5);
        var before = Balancer(h, h.ApplyPool(Configs.Specs(addresses)), Algorithms.Source);
        var placed = Enumerable.Range(0, 1000).Select(i => before.PickOne(Client(i))!.Address).ToArray();
        var after = Balancer(h, h.ApplyPool(Configs.Specs(addresses[1..])), Algorithms.Source);
        for (var i = 0; i < placed.Length; i++)
        {
            if (placed[i] != addresses[0])
            {
                Assert.Equal(placed[i], after.PickOne(Client(i))!.Address);
            }
        }
    }

    [Fact]
    public async Task Uri_sends_one_path_to_one_target_and_spreads_paths()
    {
        await using var h = new Harness();
        var balancer = Balancer(h, h.ApplyPool(Configs.Specs(Configs.Addresses(3))), Algorithms.Uri);
        var seen = new HashSet<string>();
        for (var i = 0; i < 300; i++)
        {
            var path = $"/images/{i}.png";
            var target = balancer.PickOne(new PickContext { Path = path })!;
            Assert.Same(target, balancer.PickOne(new PickContext { Path = path }));
            seen.Add(target.Address);
        }
        Assert.Equal(3, seen.Count);
    }

    [Theory]
    [InlineData("?userid=42", "userid=42&x=1")]
    [InlineData("a=1&userid=42", "?b=2&userid=42&c=3")]
    public async Task Url_param_hashes_the_value_of_its_parameter_wherever_it_is_in_the_query(string one, string two)
    {
        await using var h = new Harness();
        var balancer = Balancer(h, h.ApplyPool(Configs.Specs(Configs.Addresses(16))), Algorithms.UrlParam, "userid");
        Assert.Same(balancer.PickOne(new PickContext { Query = one }), balancer.PickOne(new PickContext { Query = two }));
    }

    [Theory]
    [InlineData("?xuserid=42")]
    [InlineData("?userid")]
    [InlineData("?USERID=42")]
    [InlineData("")]
    [InlineData(null)]
    public void Url_param_finds_no_key_in_a_query_without_that_exact_parameter(string? query) =>
        Assert.False(UrlParamHashPolicy.TryHashParameter(query, "userid", out _));

    [Fact]
    public async Task Without_the_parameter_or_header_requests_go_round_robin()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool(Configs.Specs(Configs.Addresses(3)));
        var byParam = Balancer(h, pool, Algorithms.UrlParam, "userid");
        var byHeader = Balancer(h, pool, Algorithms.Header, "X-User");
        Assert.Equal(3, Enumerable.Range(0, 3).Select(_ => byParam.PickOne(new PickContext { Query = "?other=1" })!.Address).Distinct().Count());
        Assert.Equal(3, Enumerable.Range(0, 3).Select(_ => byHeader.PickOne(new PickContext())!.Address).Distinct().Count());
    }

    [Fact]
    public async Task Hdr_sends_one_header_value_to_one_target_and_spreads_values()
    {
        await using var h = new Harness();
        var balancer = Balancer(h, h.ApplyPool(Configs.Specs(Configs.Addresses(4))), Algorithms.Header, "X-User");
        Assert.Equal("X-User", new HeaderHashPolicy().GetInputs(Configs.Route("r", "p", Algorithms.Header) with { HashKey = "X-User" }).HeaderName);
        var seen = new HashSet<string>();
        for (var i = 0; i < 200; i++)
        {
            var value = "user-" + i;
            var target = balancer.PickOne(new PickContext { HeaderValue = value })!;
            Assert.Same(target, balancer.PickOne(new PickContext { HeaderValue = value }));
            seen.Add(target.Address);
        }
        Assert.Equal(4, seen.Count);
    }

    [Fact]
    public async Task Random_of_two_never_picks_the_busier_of_two_targets()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool(Configs.Specs(Configs.Addresses(2)));
        var balancer = Balancer(h, pool, Algorithms.Random);
        var busy = pool.Targets[0];
        busy.Acquire();
        busy.Acquire();
        for (var i = 0; i < 200; i++)
        {
            Assert.Same(pool.Targets[1], balancer.PickOne());
        }
    }

    [Fact]
    public async Task Random_of_two_spreads_over_idle_targets_in_proportion_to_weight()
    {
        await using var h = new Harness();
        var pool = h.ApplyPool([new UpstreamSpec("10.0.0.1:80", 1), new UpstreamSpec("10.0.0.2:80", 1), new UpstreamSpec("10.0.0.3:80", 2)]);
        var balancer = Balancer(h, pool, Algorithms.Random);
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < 4000; i++)
        {
            var target = balancer.PickOne()!;
            counts[target.Address] = counts.GetValueOrDefault(target.Address) + 1;
        }
        Assert.Equal(3, counts.Count);
        // Ties go to the first draw, which is weighted: about 1000, 1000, 2000.
        Assert.InRange(counts["10.0.0.3:80"], 1600, 2400);
    }

    private static ProxyConfig Parse(string route)
    {
        var json = "{\"routes\":[" + route + "],\"upstream_pools\":{\"p\":{\"upstreams\":[\"10.0.0.1:80\"]}}}";
        var result = DesiredStateJson.ParseConfig(Encoding.UTF8.GetBytes(json));
        Assert.True(result.Succeeded, result.Detail);
        return result.Value!;
    }

    public static TheoryData<string, string, string> HashKeyRules => new()
    {
        { """{"id":"r","algorithm":"url_param","upstream_pool":"p"}""", "routes[0].hash_key", "url_param needs hash_key" },
        { """{"id":"r","algorithm":"url_param","upstream_pool":"p","hash_key":"a=b"}""", "routes[0].hash_key", "query parameter name" },
        { """{"id":"r","algorithm":"hdr","upstream_pool":"p"}""", "routes[0].hash_key", "hdr needs hash_key" },
        { """{"id":"r","algorithm":"hdr","upstream_pool":"p","hash_key":"X-User: 1"}""", "routes[0].hash_key", "HTTP header name" },
        { """{"id":"r","algorithm":"round_robin","upstream_pool":"p","hash_key":"X-User"}""", "routes[0].hash_key", "only used by" },
        { """{"id":"r","algorithm":"hdr(X-User)","upstream_pool":"p"}""", "routes[0].algorithm", "\"hash_key\": \"X-User\"" },
        { """{"id":"r","algorithm":"ip_hash","upstream_pool":"p"}""", "routes[0].algorithm", "did you mean 'source'?" },
        { """{"id":"r","algorithm":"static-rr","upstream_pool":"p"}""", "routes[0].algorithm", "did you mean 'round_robin'?" },
    };

    [Theory]
    [MemberData(nameof(HashKeyRules))]
    public void Hash_keys_and_haproxy_spellings_are_judged_with_field_and_hint(string route, string field, string text)
    {
        var error = Assert.Single(DesiredStateValidator.Validate(Parse(route), algorithms: LoadBalancingPolicies.CreateDefault()).Errors);
        Assert.Equal(field, error.Field);
        Assert.Contains(text, error.Message + " " + error.Hint, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"id":"r","enabled":true,"algorithm":"source","upstream_pool":"p"}""")]
    [InlineData("""{"id":"r","enabled":true,"algorithm":"uri","upstream_pool":"p"}""")]
    [InlineData("""{"id":"r","enabled":true,"algorithm":"url_param","upstream_pool":"p","hash_key":"userid"}""")]
    [InlineData("""{"id":"r","enabled":true,"algorithm":"hdr","upstream_pool":"p","hash_key":"X-User"}""")]
    [InlineData("""{"id":"r","enabled":true,"algorithm":"random","upstream_pool":"p"}""")]
    public void The_new_algorithms_are_valid(string route) =>
        Assert.True(DesiredStateValidator.Validate(Parse(route), algorithms: LoadBalancingPolicies.CreateDefault()).IsValid);
}
