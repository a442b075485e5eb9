using System.Text;
using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.TestSupport;

namespace Lb.Core.Tests;

public class DesiredStateJsonTests
{
    private static ProxyConfig ParseOk(string json)
    {
        var result = DesiredStateJson.ParseConfig(Encoding.UTF8.GetBytes(json));
        Assert.True(result.Succeeded, $"{result.Message}: {result.Field} {result.Detail}");
        return result.Value!;
    }

    private static JsonParseResult<ProxyConfig> ParseFail(string json)
    {
        var result = DesiredStateJson.ParseConfig(Encoding.UTF8.GetBytes(json));
        Assert.False(result.Succeeded);
        return result;
    }

    [Fact]
    public void Seed_example_serialises_to_the_golden_canonical_form()
    {
        var config = ParseOk(SeedExample.Json);
        Golden.AssertMatches("seed-example.canonical", Encoding.UTF8.GetString(DesiredStateJson.Serialize(config, indented: true)));
    }

    [Fact]
    public void Canonical_form_round_trips_byte_for_byte()
    {
        var first = DesiredStateJson.Serialize(ParseOk(SeedExample.Json));
        var second = DesiredStateJson.Serialize(ParseOk(Encoding.UTF8.GetString(first)));
        Assert.Equal(first, second);
    }

    [Fact]
    public void Limit_fields_round_trip_and_a_document_without_them_serialises_as_before()
    {
        const string Json = """
            {"routes":[{"id":"r","enabled":true,"algorithm":"round_robin","match":{"hosts":[]},"upstream_pool":"p","connect_timeout":"500ms","server_timeout":"5s","client_timeout":"10s","max_request_body_size":1024,"max_request_header_count":50,"max_request_headers_size":8192}],
             "upstream_pools":{"p":{"upstreams":[{"address":"h:1","max_connections":2},"h:2"],"max_connections":10,"queue_size":5,"queue_timeout":"1s"}}}
            """;
        var config = ParseOk(Json);
        Assert.Equal((2, (int?)null), (config.UpstreamPools["p"].Upstreams[0].MaxConnections, config.UpstreamPools["p"].Upstreams[1].MaxConnections));
        Assert.Equal((10, 5), (config.UpstreamPools["p"].MaxConnections, config.UpstreamPools["p"].QueueSize));
        Assert.Equal((1024L, 50, 8192), (config.Routes[0].MaxRequestBodySize, config.Routes[0].MaxRequestHeaderCount, config.Routes[0].MaxRequestHeadersSize));
        var written = DesiredStateJson.Serialize(config);
        Assert.Equal(written, DesiredStateJson.Serialize(ParseOk(Encoding.UTF8.GetString(written))));
        var text = Encoding.UTF8.GetString(written);
        Assert.Contains("{\"address\":\"h:1\",\"max_connections\":2}", text, StringComparison.Ordinal);
        Assert.Contains("\"server_timeout\":\"5s\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("max_connections", Encoding.UTF8.GetString(DesiredStateJson.Serialize(ParseOk(SeedExample.Json))), StringComparison.Ordinal);
    }

    [Fact]
    public void Content_hash_ignores_formatting_and_pool_order_but_not_content()
    {
        var a = ParseOk("""{"upstream_pools":{"b":{"upstreams":["h:1"]},"a":{"upstreams":["h:2"]}}}""");
        var b = ParseOk("""
            { "upstream_pools": { "a": { "upstreams": ["h:2"] },
                                  "b": { "upstreams": ["h:1"] } } }
            """);
        var c = ParseOk("""{"upstream_pools":{"a":{"upstreams":["h:2"]},"b":{"upstreams":["h:3"]}}}""");
        Assert.Equal(DesiredStateJson.ContentHash(a), DesiredStateJson.ContentHash(b));
        Assert.NotEqual(DesiredStateJson.ContentHash(a), DesiredStateJson.ContentHash(c));
        Assert.Matches("^[0-9a-f]{64}$", DesiredStateJson.ContentHash(a));
    }

    [Fact]
    public void Missing_enabled_means_disabled_and_is_written_out()
    {
        var config = ParseOk("""{"routes":[{"id":"r","match":{"hosts":["a"]},"upstream_pool":"p"}]}""");
        Assert.False(config.Routes[0].Enabled);
        Assert.Contains("\"enabled\":false", Encoding.UTF8.GetString(DesiredStateJson.Serialize(config)), StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_algorithm_is_stored_as_absent_and_means_round_robin()
    {
        var config = ParseOk("""{"routes":[{"id":"r","algorithm":"","upstream_pool":"p"}]}""");
        Assert.Null(config.Routes[0].Algorithm);
        Assert.Equal(Algorithms.RoundRobin, config.Routes[0].EffectiveAlgorithm);
        Assert.DoesNotContain("algorithm", Encoding.UTF8.GetString(DesiredStateJson.Serialize(config)), StringComparison.Ordinal);
    }

    [Fact]
    public void Nulls_become_empty_values()
    {
        var config = ParseOk("""{"routes":null,"upstream_pools":null}""");
        Assert.Empty(config.Routes);
        Assert.Empty(config.UpstreamPools);
        var nested = ParseOk("""{"routes":[null,{"id":null,"match":null}],"upstream_pools":{"p":null,"q":{"upstreams":[null]}}}""");
        Assert.Equal("", nested.Routes[0].Id);
        Assert.Empty(nested.Routes[1].Match.Hosts);
        Assert.Empty(nested.UpstreamPools["p"].Upstreams);
        Assert.Equal("", nested.UpstreamPools["q"].Upstreams[0].Address);
    }

    [Fact]
    public void Property_names_match_case_insensitively_like_the_reference()
    {
        var config = ParseOk("""{"ROUTES":[{"ID":"r","Enabled":true,"Upstream_Pool":"p"}]}""");
        Assert.Equal("r", config.Routes[0].Id);
        Assert.True(config.Routes[0].Enabled);
        Assert.Equal("p", config.Routes[0].UpstreamPool);
    }

    [Fact]
    public void Weighted_upstreams_use_the_object_form_and_plain_ones_stay_strings()
    {
        var config = ParseOk("""{"upstream_pools":{"p":{"upstreams":["a:1",{"address":"b:2","weight":3},{"address":"c:3"}]}}}""");
        Assert.Equal([new UpstreamSpec("a:1"), new UpstreamSpec("b:2", 3), new UpstreamSpec("c:3")], config.UpstreamPools["p"].Upstreams);
        Assert.Equal("""{"routes":[],"upstream_pools":{"p":{"upstreams":["a:1",{"address":"b:2","weight":3},"c:3"]}}}""",
            Encoding.UTF8.GetString(DesiredStateJson.Serialize(config)));
    }

    [Theory]
    [InlineData("""{"routes":[{"id":"r","enabld":true}]}""", "routes[0].enabld", "unknown field 'enabld'")]
    [InlineData("""{"routes":[],"upstream_pools":{},"applied_at":"x"}""", "applied_at", "unknown field 'applied_at'")]
    [InlineData("""{"upstream_pools":{"p":{"upstreams":[{"address":"a:1","wieght":2}]}}}""", "upstream_pools.p.upstreams[0]", "unknown field 'wieght'")]
    [InlineData("""{"routes":[{"id":"r","enabled":"true"}]}""", "routes[0].enabled", "expected true or false")]
    [InlineData("""{"upstream_pools":{"p":{"upstreams":["a:1"],"health_check":{"expect_status":200.0}}}}""", "upstream_pools.p.health_check.expect_status", "expected an integer")]
    [InlineData("""{"routes":{}}""", "routes", "expected an array")]
    public void Schema_errors_name_the_field(string json, string field, string detail)
    {
        var result = ParseFail(json);
        Assert.Equal(DesiredStateJson.InvalidBodyMessage, result.Message);
        Assert.Equal(field, result.Field);
        Assert.Contains(detail, result.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("{\"routes\":[}")]
    [InlineData("{\"routes\":[],}")]
    [InlineData("{/*c*/\"routes\":[]}")]
    [InlineData("{\"routes\":[],\"routes\":[]}")]
    public void Malformed_bodies_are_invalid_json(string json) =>
        Assert.Equal(DesiredStateJson.InvalidBodyMessage, ParseFail(json).Message);

    [Theory]
    [InlineData("{} x")]
    [InlineData("{}{}")]
    [InlineData("{\"routes\":[]} {\"routes\":[]}")]
    public void Data_after_the_object_is_rejected_even_when_it_is_json(string json) =>
        Assert.Equal(DesiredStateJson.TrailingDataMessage, ParseFail(json).Message);

    [Fact]
    public void Deep_nesting_is_rejected_without_crashing()
    {
        var json = "{\"routes\":[" + new string('[', 5000) + new string(']', 5000) + "]}";
        Assert.Equal(DesiredStateJson.InvalidBodyMessage, ParseFail(json).Message);
    }

    [Fact]
    public void Desired_state_document_round_trips_with_vip_and_timing()
    {
        var state = new DesiredState
        {
            Config = ParseOk(SeedExample.Json),
            Vip = new VipPolicy { Address = "10.0.0.100/24", GarpCount = 3, GarpInterval = "100ms" },
            RaftTiming = new RaftTimingPolicy { HeartbeatTimeout = "2500ms", ElectionTimeout = "4s" },
        };
        var bytes = DesiredStateJson.Serialize(state);
        var parsed = DesiredStateJson.ParseState(bytes);
        Assert.True(parsed.Succeeded, parsed.Detail);
        Assert.Equal(bytes, DesiredStateJson.Serialize(parsed.Value!));
        Assert.Equal(state.Vip, parsed.Value!.Vip);
        Assert.Equal(state.RaftTiming, parsed.Value!.RaftTiming);
    }

    [Theory]
    [InlineData("""{"upstream_pools":{"p":{"upstreams":["10.0.0.1:80"],"helth_check":{}}}}""", "helth_check", "health_check")]
    [InlineData("""{"routes":[{"id":"r","upstream_pol":"p"}]}""", "upstream_pol", "upstream_pool")]
    [InlineData("""{"routes":[{"id":"r","match":{"host":["a"]}}]}""", "host", "hosts")]
    [InlineData("""{"upstream_pools":{"p":{"upstreams":[],"health_check":{"intervall":"1s"}}}}""", "intervall", "interval")]
    public void A_misspelled_field_suggests_the_field_of_that_object_it_is_closest_to(string json, string given, string meant)
    {
        var result = ParseFail(json);
        Assert.Contains($"unknown field '{given}': did you mean '{meant}'?", result.Detail, StringComparison.Ordinal);
    }
}

public class EmptyStateTests
{
    [Fact]
    public void The_empty_states_have_empty_collections_not_nulls()
    {
        Assert.NotNull(ProxyConfig.Empty.UpstreamPools);
        Assert.Empty(ProxyConfig.Empty.Routes);
        Assert.NotNull(DesiredState.Empty.Config.UpstreamPools);
    }
}
