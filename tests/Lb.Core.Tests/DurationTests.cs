using System.Text;
using Lb.Core.Json;
using Lb.Core.Spec;

namespace Lb.Core.Tests;

public class DurationTests
{
    private const string Config = """
        {"routes":[{"id":"r","enabled":true,"match":{"hosts":["a.test"]},"upstream_pool":"p","algorithm":"sticky_cookie","sticky_cookie":{"max_age":"1h30m"}}],
         "upstream_pools":{"p":{"upstreams":["127.0.0.1:1"],"connect_timeout":"1.5s","response_timeout":"2m",
           "health_check":{"path":"/h","interval":"1m30s","timeout":"500ms","expect_status":200},
           "passive_health":{"ejection_time":"45s"}}}}
        """;

    [Fact]
    public void Durations_are_parsed_when_the_document_is_read_and_keep_the_text_as_written()
    {
        var config = DesiredStateJson.ParseConfig(Encoding.UTF8.GetBytes(Config)).Value!;
        var pool = config.UpstreamPools["p"];

        Assert.Equal(("1.5s", TimeSpan.FromMilliseconds(1500)), (pool.ConnectTimeout!.Value.Text, pool.ConnectTimeout.Value.Value));
        Assert.Equal(TimeSpan.FromMinutes(2), pool.ResponseTimeout!.Value.Positive);
        Assert.Equal(("1m30s", TimeSpan.FromSeconds(90)), (pool.HealthCheck!.Interval.Text, pool.HealthCheck.Interval.Value));
        Assert.Equal(TimeSpan.FromMilliseconds(500), pool.HealthCheck.Timeout.Value);
        Assert.Equal(TimeSpan.FromSeconds(45), pool.PassiveHealth!.EjectionTime!.Value.Value);
        Assert.Equal(TimeSpan.FromMinutes(90), config.Routes[0].StickyCookie!.MaxAge!.Value.Positive);
    }

    [Fact]
    public void Durations_serialise_back_to_the_same_strings_so_the_wire_form_and_hash_do_not_change()
    {
        var config = DesiredStateJson.ParseConfig(Encoding.UTF8.GetBytes(Config)).Value!;
        var json = Encoding.UTF8.GetString(DesiredStateJson.Serialize(config));

        foreach (var field in (string[])["\"connect_timeout\":\"1.5s\"", "\"response_timeout\":\"2m\"", "\"interval\":\"1m30s\"", "\"timeout\":\"500ms\"", "\"ejection_time\":\"45s\"", "\"max_age\":\"1h30m\""])
        {
            Assert.Contains(field, json, StringComparison.Ordinal);
        }
        var again = DesiredStateJson.ParseConfig(Encoding.UTF8.GetBytes(json)).Value!;
        Assert.Equal(DesiredStateJson.ContentHash(config), DesiredStateJson.ContentHash(again));
    }

    [Fact]
    public void An_unparsable_duration_is_kept_with_its_error_for_validation_to_report()
    {
        var config = DesiredStateJson.ParseConfig(Encoding.UTF8.GetBytes(Config.Replace("\"2m\"", "\"2 minutes\"", StringComparison.Ordinal))).Value!;
        var timeout = config.UpstreamPools["p"].ResponseTimeout!.Value;

        Assert.False(timeout.IsValid);
        Assert.Equal("2 minutes", timeout.Text);
        Assert.Null(timeout.Positive);
        Assert.StartsWith("time: ", timeout.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Specs_written_in_code_take_the_text_and_an_absent_optional_duration_stays_absent()
    {
        string? absent = null;
        var pool = new UpstreamPoolSpec { ConnectTimeout = "250ms", ResponseTimeout = absent };

        Assert.Equal(TimeSpan.FromMilliseconds(250), pool.ConnectTimeout!.Value.Value);
        Assert.Null(pool.ResponseTimeout);
        Assert.Equal(Duration.Parse("90s").Value, Duration.FromTimeSpan(TimeSpan.FromSeconds(90)).Value);
        Assert.Equal("1m30s", Duration.FromTimeSpan(TimeSpan.FromSeconds(90)).Text);
    }
}
