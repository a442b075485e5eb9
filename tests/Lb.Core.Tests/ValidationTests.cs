using System.Text;
using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Core.Validation;

namespace Lb.Core.Tests;

public class ValidationTests
{
    private const string Pool = "\"p\":{\"upstreams\":[\"10.0.0.1:80\"]}";

    private static ProxyConfig Parse(string json)
    {
        var result = DesiredStateJson.ParseConfig(Encoding.UTF8.GetBytes(json));
        Assert.True(result.Succeeded, result.Detail);
        return result.Value!;
    }

    private static string Route(string body) =>
        "{\"routes\":[{\"id\":\"ok\",\"enabled\":true,\"upstream_pool\":\"p\"}," + body + "],\"upstream_pools\":{" + Pool + "}}";

    private static string PoolWith(string id, string body) =>
        "{\"upstream_pools\":{" + Pool + ",\"" + id + "\":" + body + "}}";

    [Fact]
    public void Seed_example_is_valid() => Assert.True(DesiredStateValidator.Validate(Parse(SeedExample.Json)).IsValid);

    [Fact]
    public void All_four_algorithms_are_accepted()
    {
        foreach (var algorithm in Algorithms.All)
        {
            var result = DesiredStateValidator.Validate(Parse(Route($"{{\"id\":\"r\",\"algorithm\":\"{algorithm}\",\"upstream_pool\":\"p\"}}")));
            Assert.True(result.IsValid, algorithm);
        }
    }

    [Fact]
    public void Algorithm_names_and_their_own_rules_come_from_the_injected_rules()
    {
        var rules = new OnlyHashRules();
        var custom = DesiredStateValidator.Validate(Parse(Route("""{"id":"r","algorithm":"tenant_hash","upstream_pool":"p"}""")), algorithms: rules);
        var error = Assert.Single(custom.Errors);
        Assert.Equal(("routes[1].match.hosts", "needs_hosts"), (error.Field, error.Code));

        var builtIn = DesiredStateValidator.Validate(Parse(Route("""{"id":"r","algorithm":"least_connection","upstream_pool":"p"}""")), algorithms: rules);
        Assert.Contains(builtIn.Errors, e => e.Field == "routes[1].algorithm" && e.Code == ValidationCodes.UnknownAlgorithm && e.Message == "algorithm must be one of: round_robin, tenant_hash");
    }

    private sealed class OnlyHashRules : IAlgorithmRules
    {
        public IReadOnlyCollection<string> Names { get; } = ["round_robin", "tenant_hash"];

        public bool IsKnown(string name) => Names.Contains(name);

        public void ValidateRoute(RouteSpec route, string path, ICollection<ValidationError> errors)
        {
            if (route.EffectiveAlgorithm == "tenant_hash" && route.Match.Hosts.Count == 0)
            {
                errors.Add(new ValidationError(path + ".match.hosts", "needs_hosts", "tenant_hash routes must name their hosts", "add a host"));
            }
        }
    }

    [Fact]
    public void Empty_hosts_and_wildcard_hosts_are_accepted()
    {
        var result = DesiredStateValidator.Validate(Parse(Route("""{"id":"r","match":{"hosts":["*.example.com","Shop.Example.com","10.0.0.1","[::1]"]},"upstream_pool":"p"}""")));
        Assert.True(result.IsValid, string.Join(", ", result.Errors));
    }

    public static TheoryData<string, string, string, string> FailingExamples => new()
    {
        // pools
        { "P1 empty pool id", PoolWith(" ", """{"upstreams":["a:1"]}"""), "upstream_pools", ValidationCodes.PoolIdEmpty },
        { "pool id charset", PoolWith("a;b", """{"upstreams":["a:1"]}"""), "upstream_pools", ValidationCodes.InvalidPoolId },
        { "P2 no upstreams", PoolWith("q", """{"upstreams":[]}"""), "upstream_pools.q.upstreams", ValidationCodes.UpstreamsEmpty },
        { "P3 blank upstream", PoolWith("q", """{"upstreams":["a:1"," "]}"""), "upstream_pools.q.upstreams[1]", ValidationCodes.UpstreamEmpty },
        { "P4 no port", PoolWith("q", """{"upstreams":["a"]}"""), "upstream_pools.q.upstreams[0]", ValidationCodes.InvalidUpstream },
        { "P4 empty port", PoolWith("q", """{"upstreams":["a:"]}"""), "upstream_pools.q.upstreams[0]", ValidationCodes.InvalidUpstream },
        { "P4 empty host", PoolWith("q", """{"upstreams":[":80"]}"""), "upstream_pools.q.upstreams[0]", ValidationCodes.InvalidUpstream },
        { "P4 bare ipv6", PoolWith("q", """{"upstreams":["::1:80"]}"""), "upstream_pools.q.upstreams[0]", ValidationCodes.InvalidUpstream },
        { "P4b non-numeric port", PoolWith("q", """{"upstreams":["a:abc"]}"""), "upstream_pools.q.upstreams[0]", ValidationCodes.InvalidPort },
        { "P4b port out of range", PoolWith("q", """{"upstreams":["a:70000"]}"""), "upstream_pools.q.upstreams[0]", ValidationCodes.InvalidPort },
        { "bad upstream host", PoolWith("q", """{"upstreams":["bad host:80"]}"""), "upstream_pools.q.upstreams[0]", ValidationCodes.InvalidUpstreamHost },
        { "duplicate upstream", PoolWith("q", """{"upstreams":["a:1","A:1"]}"""), "upstream_pools.q.upstreams[1]", ValidationCodes.DuplicateUpstream },
        { "weight zero", PoolWith("q", """{"upstreams":[{"address":"a:1","weight":0}]}"""), "upstream_pools.q.upstreams[0]", ValidationCodes.InvalidWeight },
        { "P5 health path", PoolWith("q", """{"upstreams":["a:1"],"health_check":{"path":"health","interval":"5s","timeout":"1s","expect_status":200}}"""), "upstream_pools.q.health_check.path", ValidationCodes.InvalidHealthPath },
        { "P6 interval", PoolWith("q", """{"upstreams":["a:1"],"health_check":{"path":"/h","interval":"10","timeout":"1s","expect_status":200}}"""), "upstream_pools.q.health_check.interval", ValidationCodes.InvalidDuration },
        { "P7 timeout", PoolWith("q", """{"upstreams":["a:1"],"health_check":{"path":"/h","interval":"5s","timeout":"1x","expect_status":200}}"""), "upstream_pools.q.health_check.timeout", ValidationCodes.InvalidDuration },
        { "zero interval", PoolWith("q", """{"upstreams":["a:1"],"health_check":{"path":"/h","interval":"0s","timeout":"1s","expect_status":200}}"""), "upstream_pools.q.health_check.interval", ValidationCodes.NonPositiveDuration },
        { "negative timeout", PoolWith("q", """{"upstreams":["a:1"],"health_check":{"path":"/h","interval":"5s","timeout":"-1s","expect_status":200}}"""), "upstream_pools.q.health_check.timeout", ValidationCodes.NonPositiveDuration },
        { "timeout not below interval", PoolWith("q", """{"upstreams":["a:1"],"health_check":{"path":"/h","interval":"5s","timeout":"5s","expect_status":200}}"""), "upstream_pools.q.health_check.timeout", ValidationCodes.TimeoutNotBelowInterval },
        { "P8 expect_status missing", PoolWith("q", """{"upstreams":["a:1"],"health_check":{"path":"/h","interval":"5s","timeout":"1s"}}"""), "upstream_pools.q.health_check.expect_status", ValidationCodes.InvalidExpectStatus },
        { "P8 expect_status 600", PoolWith("q", """{"upstreams":["a:1"],"health_check":{"path":"/h","interval":"5s","timeout":"1s","expect_status":600}}"""), "upstream_pools.q.health_check.expect_status", ValidationCodes.InvalidExpectStatus },
        { "rise zero", PoolWith("q", """{"upstreams":["a:1"],"health_check":{"path":"/h","interval":"5s","timeout":"1s","expect_status":200,"rise":0}}"""), "upstream_pools.q.health_check.rise", ValidationCodes.InvalidThreshold },
        { "fall too big", PoolWith("q", """{"upstreams":["a:1"],"health_check":{"path":"/h","interval":"5s","timeout":"1s","expect_status":200,"fall":101}}"""), "upstream_pools.q.health_check.fall", ValidationCodes.InvalidThreshold },
        { "unknown target state", PoolWith("q", """{"upstreams":[{"address":"a:1","state":"maintenance"}]}"""), "upstream_pools.q.upstreams[0].state", ValidationCodes.InvalidTargetState },
        { "negative slow start", PoolWith("q", """{"upstreams":["a:1"],"slow_start":"-5s"}"""), "upstream_pools.q.slow_start", ValidationCodes.NonPositiveDuration },
        { "unknown check type", PoolWith("q", """{"upstreams":["a:1"],"health_check":{"type":"udp","path":"/h","interval":"5s","timeout":"1s","expect_status":200}}"""), "upstream_pools.q.health_check.type", ValidationCodes.InvalidHealthCheckType },
        { "tcp check with a path", PoolWith("q", """{"upstreams":["a:1"],"health_check":{"type":"tcp","path":"/h","interval":"5s","timeout":"1s"}}"""), "upstream_pools.q.health_check.path", ValidationCodes.InvalidHealthPath },
        { "tcp check with expect_status", PoolWith("q", """{"upstreams":["a:1"],"health_check":{"type":"tcp","interval":"5s","timeout":"1s","expect_status":200}}"""), "upstream_pools.q.health_check.expect_status", ValidationCodes.InvalidExpectStatus },
        { "passive failures negative", PoolWith("q", """{"upstreams":["a:1"],"passive_health":{"consecutive_failures":-1}}"""), "upstream_pools.q.passive_health.consecutive_failures", ValidationCodes.InvalidThreshold },
        { "passive ejection time", PoolWith("q", """{"upstreams":["a:1"],"passive_health":{"ejection_time":"soon"}}"""), "upstream_pools.q.passive_health.ejection_time", ValidationCodes.InvalidDuration },
        { "connect timeout", PoolWith("q", """{"upstreams":["a:1"],"connect_timeout":"0s"}"""), "upstream_pools.q.connect_timeout", ValidationCodes.NonPositiveDuration },
        { "response timeout", PoolWith("q", """{"upstreams":["a:1"],"response_timeout":"1y"}"""), "upstream_pools.q.response_timeout", ValidationCodes.InvalidDuration },
        { "max_connections zero", PoolWith("q", """{"upstreams":["a:1"],"max_connections":0}"""), "upstream_pools.q.max_connections", ValidationCodes.InvalidLimit },
        { "upstream max_connections negative", PoolWith("q", """{"upstreams":[{"address":"a:1","max_connections":-1}]}"""), "upstream_pools.q.upstreams[0].max_connections", ValidationCodes.InvalidLimit },
        { "queue_size negative", PoolWith("q", """{"upstreams":["a:1"],"max_connections":5,"queue_size":-1}"""), "upstream_pools.q.queue_size", ValidationCodes.InvalidLimit },
        { "queue without a limit", PoolWith("q", """{"upstreams":["a:1"],"queue_size":10}"""), "upstream_pools.q.queue_size", ValidationCodes.InvalidLimit },
        { "queue_timeout without a limit", PoolWith("q", """{"upstreams":["a:1"],"queue_timeout":"5s"}"""), "upstream_pools.q.queue_timeout", ValidationCodes.InvalidLimit },
        { "queue_timeout zero", PoolWith("q", """{"upstreams":["a:1"],"max_connections":5,"queue_timeout":"0s"}"""), "upstream_pools.q.queue_timeout", ValidationCodes.NonPositiveDuration },
        { "route server_timeout", Route("""{"id":"r","upstream_pool":"p","server_timeout":"0s"}"""), "routes[1].server_timeout", ValidationCodes.NonPositiveDuration },
        { "route client_timeout", Route("""{"id":"r","upstream_pool":"p","client_timeout":"later"}"""), "routes[1].client_timeout", ValidationCodes.InvalidDuration },
        { "route connect_timeout", Route("""{"id":"r","upstream_pool":"p","connect_timeout":"-1s"}"""), "routes[1].connect_timeout", ValidationCodes.NonPositiveDuration },
        { "route body limit negative", Route("""{"id":"r","upstream_pool":"p","max_request_body_size":-1}"""), "routes[1].max_request_body_size", ValidationCodes.InvalidLimit },
        { "route header count zero", Route("""{"id":"r","upstream_pool":"p","max_request_header_count":0}"""), "routes[1].max_request_header_count", ValidationCodes.InvalidLimit },
        { "route header size zero", Route("""{"id":"r","upstream_pool":"p","max_request_headers_size":0}"""), "routes[1].max_request_headers_size", ValidationCodes.InvalidLimit },
        // routes (index 1: index 0 is a valid route)
        { "R1 empty id", Route("""{"id":" ","upstream_pool":"p"}"""), "routes[1].id", ValidationCodes.RouteIdEmpty },
        { "route id charset", Route("""{"id":"a;b","upstream_pool":"p"}"""), "routes[1].id", ValidationCodes.InvalidRouteId },
        { "R2 duplicate id", Route("""{"id":"ok","upstream_pool":"p"}"""), "routes[1].id", ValidationCodes.DuplicateRouteId },
        { "R4 blank host", Route("""{"id":"r","match":{"hosts":["a.com",""]},"upstream_pool":"p"}"""), "routes[1].match.hosts[1]", ValidationCodes.HostEmpty },
        { "R5 bad wildcard", Route("""{"id":"r","match":{"hosts":["a.*.com"]},"upstream_pool":"p"}"""), "routes[1].match.hosts[0]", ValidationCodes.InvalidHost },
        { "double wildcard", Route("""{"id":"r","match":{"hosts":["*.*.com"]},"upstream_pool":"p"}"""), "routes[1].match.hosts[0]", ValidationCodes.InvalidHost },
        { "host syntax", Route("""{"id":"r","match":{"hosts":["shop example.com"]},"upstream_pool":"p"}"""), "routes[1].match.hosts[0]", ValidationCodes.InvalidHost },
        { "host label too long", Route("{\"id\":\"r\",\"match\":{\"hosts\":[\"" + new string('a', 64) + ".com\"]},\"upstream_pool\":\"p\"}"), "routes[1].match.hosts[0]", ValidationCodes.InvalidHost },
        { "host with port", Route("""{"id":"r","match":{"hosts":["shop.example.com:8080"]},"upstream_pool":"p"}"""), "routes[1].match.hosts[0]", ValidationCodes.HostHasPort },
        { "duplicate host", Route("""{"id":"r","match":{"hosts":["a.com","A.com"]},"upstream_pool":"p"}"""), "routes[1].match.hosts[1]", ValidationCodes.DuplicateHost },
        { "R6 empty path value", Route("""{"id":"r","match":{"path":{"type":"exact","value":" "}},"upstream_pool":"p"}"""), "routes[1].match.path.value", ValidationCodes.PathValueEmpty },
        { "R7 path type", Route("""{"id":"r","match":{"path":{"type":"glob","value":"/a"}},"upstream_pool":"p"}"""), "routes[1].match.path.type", ValidationCodes.InvalidPathType },
        { "R8 exact without slash", Route("""{"id":"r","match":{"path":{"type":"exact","value":"login"}},"upstream_pool":"p"}"""), "routes[1].match.path.value", ValidationCodes.InvalidExactPath },
        { "R9 prefix without slash", Route("""{"id":"r","match":{"path":{"type":"prefix","value":"api/"}},"upstream_pool":"p"}"""), "routes[1].match.path.value", ValidationCodes.InvalidPrefixPath },
        { "R10 prefix not ending in slash", Route("""{"id":"r","match":{"path":{"type":"prefix","value":"/api"}},"upstream_pool":"p"}"""), "routes[1].match.path.value", ValidationCodes.InvalidPrefixPath },
        { "R11 regex syntax", Route("""{"id":"r","match":{"path":{"type":"regex","value":"^/(a"}},"upstream_pool":"p"}"""), "routes[1].match.path.value", ValidationCodes.InvalidRegex },
        { "R11 regex back-reference (not RE2)", Route("""{"id":"r","match":{"path":{"type":"regex","value":"(a)\\1"}},"upstream_pool":"p"}"""), "routes[1].match.path.value", ValidationCodes.InvalidRegex },
        { "R11 regex look-ahead (not RE2)", Route("""{"id":"r","match":{"path":{"type":"regex","value":"^/a(?=b)"}},"upstream_pool":"p"}"""), "routes[1].match.path.value", ValidationCodes.InvalidRegex },
        { "R12 algorithm", Route("""{"id":"r","algorithm":"least_conn","upstream_pool":"p"}"""), "routes[1].algorithm", ValidationCodes.UnknownAlgorithm },
        { "R13 empty pool", Route("""{"id":"r","upstream_pool":""}"""), "routes[1].upstream_pool", ValidationCodes.UpstreamPoolEmpty },
        { "R14 unknown pool", Route("""{"id":"r","upstream_pool":"nope"}"""), "routes[1].upstream_pool", ValidationCodes.UnknownUpstreamPool },
    };

    [Theory]
    [MemberData(nameof(FailingExamples))]
    public void Every_rule_reports_its_field_path_and_code(string rule, string json, string field, string code)
    {
        var result = DesiredStateValidator.Validate(Parse(json));
        Assert.False(result.IsValid, rule);
        Assert.Contains(result.Errors, e => e.Field == field && e.Code == code);
        Assert.All(result.Errors, e => Assert.False(string.IsNullOrWhiteSpace(e.Hint), $"{e.Code} has no hint"));
    }

    [Fact]
    public void Reference_messages_are_kept_verbatim()
    {
        var result = DesiredStateValidator.Validate(Parse(Route("""{"id":"r","upstream_pool":"nope"}""")));
        Assert.Equal("referenced upstream_pool does not exist", Assert.Single(result.Errors).Message);
        var duration = DesiredStateValidator.Validate(Parse(PoolWith("q", """{"upstreams":["a:1"],"health_check":{"path":"/h","interval":"10","timeout":"1s","expect_status":200}}""")));
        Assert.Equal("invalid duration: time: missing unit in duration \"10\"", Assert.Single(duration.Errors).Message);
    }

    [Fact]
    public void All_errors_are_reported_at_once_pools_first_in_id_order_then_routes()
    {
        var config = Parse("""
            {"routes":[{"id":"","upstream_pool":"x"},{"id":"b","algorithm":"nope","upstream_pool":"p"}],
             "upstream_pools":{"z":{"upstreams":[]},"p":{"upstreams":["a:1"]},"m":{"upstreams":["bad"]}}}
            """);
        var fields = DesiredStateValidator.Validate(config).Errors.Select(e => e.Field).ToArray();
        Assert.Equal(["upstream_pools.m.upstreams[0]", "upstream_pools.z.upstreams", "routes[0].id", "routes[0].upstream_pool", "routes[1].algorithm"], fields);
    }

    [Fact]
    public void Prefix_without_slash_and_without_trailing_slash_reports_both_problems()
    {
        var errors = DesiredStateValidator.Validate(Parse(Route("""{"id":"r","match":{"path":{"type":"prefix","value":"api"}},"upstream_pool":"p"}"""))).Errors;
        Assert.Equal(2, errors.Count(e => e.Field == "routes[1].match.path.value"));
    }

    [Fact]
    public void Size_limits_stop_oversized_documents_with_one_error()
    {
        var limits = new DesiredStateLimits { MaxRoutes = 3, MaxPools = 2, MaxUpstreamsPerPool = 2, MaxHostsPerRoute = 1 };
        var config = new ProxyConfig
        {
            Routes = Enumerable.Range(0, 4).Select(i => new RouteSpec { Id = $"r{i}", UpstreamPool = "p" }).ToArray(),
            UpstreamPools = new Dictionary<string, UpstreamPoolSpec> { ["p"] = new() { Upstreams = ["a:1", "b:1", "c:1"] } },
        };
        var errors = DesiredStateValidator.Validate(config, limits).Errors;
        Assert.Contains(errors, e => e.Field == "routes" && e.Code == ValidationCodes.TooMany);
        Assert.Contains(errors, e => e.Field == "upstream_pools.p.upstreams" && e.Code == ValidationCodes.TooMany);
    }

    [Fact]
    public void Error_count_is_capped_and_the_rest_summarised()
    {
        var config = new ProxyConfig { Routes = Enumerable.Range(0, 100).Select(_ => new RouteSpec()).ToArray() };
        var errors = DesiredStateValidator.Validate(config, new DesiredStateLimits { MaxErrors = 10 }).Errors;
        Assert.Equal(11, errors.Count);
        Assert.Equal(ValidationCodes.TooMany, errors[^1].Code);
    }

    [Theory]
    [InlineData("roundrobin", "round_robin")]
    [InlineData("leastconn", "least_connection")]
    [InlineData("source", "5_tuple_hash")]
    [InlineData("least_connections", "least_connection")]
    [InlineData("stiky_cookie", "sticky_cookie")]
    public void HAProxy_algorithm_names_and_near_misses_get_the_Lb_name_as_the_hint(string given, string meant)
    {
        var result = DesiredStateValidator.Validate(Parse(Route($"{{\"id\":\"r\",\"algorithm\":\"{given}\",\"upstream_pool\":\"p\"}}")));
        var error = Assert.Single(result.Errors);
        Assert.Equal("routes[1].algorithm", error.Field);
        Assert.Contains($"did you mean '{meant}'?", error.Hint, StringComparison.Ordinal);
    }
}
