using System.Text;
using CsCheck;
using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Core.Validation;

namespace Lb.Core.Tests;

public class PropertyTests
{
    private static readonly Gen<string> AnyText = Gen.String[Gen.Char, 0, 12];
    private static readonly Gen<string?> MaybeText = Gen.Frequency((1, (IGen<string?>)Gen.Const((string?)null)), (3, AnyText.Select(s => (string?)s)));

    private static readonly Gen<RouteSpec> GenRoute =
        Gen.Select(AnyText, Gen.Bool, MaybeText, AnyText.Array[0, 3], Gen.OneOf<string>("exact", "prefix", "regex", "x"), AnyText, Gen.Bool)
            .Select((id, enabled, algorithm, hosts, type, value, hasPath) => new RouteSpec
            {
                Id = id,
                Enabled = enabled,
                Algorithm = algorithm,
                Match = new RouteMatchSpec { Hosts = hosts, Path = hasPath ? new PathMatchSpec { Type = type, Value = value } : null },
                UpstreamPool = value,
            });

    private static readonly Gen<UpstreamPoolSpec> GenPool =
        Gen.Select(Gen.Select(AnyText, Gen.Int[-5, 5]).Select((a, w) => new UpstreamSpec(a, w)).Array[0, 3], Gen.Bool, AnyText, Gen.Int[-1, 700], Gen.Int[0, 4].Select(i => i == 0 ? (int?)null : i))
            .Select((upstreams, hasCheck, text, status, rise) => new UpstreamPoolSpec
            {
                Upstreams = upstreams,
                HealthCheck = hasCheck ? new HealthCheckSpec { Path = text, Interval = text, Timeout = "1s", ExpectStatus = status, Rise = rise } : null,
                ConnectTimeout = hasCheck ? null : text,
            });

    private static readonly Gen<ProxyConfig> GenConfig =
        Gen.Select(GenRoute.Array[0, 4], Gen.Dictionary(AnyText, GenPool)[0, 3])
            .Select((routes, pools) => new ProxyConfig { Routes = routes, UpstreamPools = pools });

    [Fact]
    public void Serialise_then_parse_is_the_identity() =>
        GenConfig.Sample(config =>
        {
            var bytes = DesiredStateJson.Serialize(config);
            var parsed = DesiredStateJson.ParseConfig(bytes);
            Assert.True(parsed.Succeeded, parsed.Detail + " in " + Encoding.UTF8.GetString(bytes));
            Assert.Equal(bytes, DesiredStateJson.Serialize(parsed.Value!));
            Assert.Equal(DesiredStateJson.ContentHash(config), DesiredStateJson.ContentHash(parsed.Value!));
        }, iter: 2_000);

    [Fact]
    public void Validation_never_throws_on_any_configuration() =>
        GenConfig.Sample(config => _ = DesiredStateValidator.Validate(config), iter: 2_000);

    // Random JSON shaped like a configuration: real field names, wrong types, nulls, nesting.
    private static readonly Gen<string> Key = Gen.OneOf<string>("routes", "upstream_pools", "id", "enabled", "algorithm", "match", "hosts", "path",
        "type", "value", "upstream_pool", "upstreams", "health_check", "interval", "timeout", "expect_status", "weight", "address", "p", "x");

    private static readonly Gen<string> Json = Gen.Recursive<string>((depth, self) =>
    {
        var scalar = Gen.OneOf<string>(
            Gen.OneOf<string>("null", "true", "false", "0", "-1", "200", "1.5", "1e400", "\"\"", "\"5s\"", "\"/\"", "\"a:1\"", "\"round_robin\"", "\"exact\"", "\"(\""),
            AnyText.Select(s => System.Text.Json.JsonSerializer.Serialize(s)));
        if (depth >= 4)
        {
            return scalar;
        }
        var array = self.Array[0, 3].Select(items => "[" + string.Join(",", items) + "]");
        var obj = Gen.Select(Key, self).Array[0, 4].Select(members => "{" + string.Join(",", members.Select(m => $"\"{m.Item1}\":{m.Item2}")) + "}");
        return Gen.Frequency<string>((2, scalar), (1, array), (2, obj));
    });

    [Fact]
    public void Parsing_and_validating_random_json_never_throws() =>
        Json.Select(body => "{\"routes\":" + body + ",\"upstream_pools\":" + body + "}").Sample(json =>
        {
            var parsed = DesiredStateJson.ParseConfig(Encoding.UTF8.GetBytes(json));
            if (parsed.Succeeded)
            {
                _ = DesiredStateValidator.Validate(parsed.Value);
            }
            else
            {
                Assert.NotNull(parsed.Message);
            }
        }, iter: 3_000);

    [Fact]
    public void Parsing_random_bytes_never_throws() =>
        Gen.Byte.Array[0, 64].Sample(bytes =>
        {
            var parsed = DesiredStateJson.ParseConfig(bytes);
            Assert.True(parsed.Succeeded || parsed.Message is not null);
        }, iter: 3_000);

    [Fact]
    public void Go_duration_format_then_parse_is_the_identity() =>
        Gen.Long[-1_000_000_000_000, 1_000_000_000_000].Sample(ticks =>
        {
            var value = TimeSpan.FromTicks(ticks);
            Assert.True(GoDuration.TryParse(GoDuration.Format(value), out var parsed, out var error), error);
            Assert.Equal(value, parsed);
        });
}
