using System.Text;
using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Core.Validation;

namespace Lb.Core.Tests;

public sealed class TcpListenerSpecTests
{
    private const string WithoutListeners = """{"routes":[],"upstream_pools":{"db":{"upstreams":["10.0.0.1:5432"]}}}""";

    private static ProxyConfig Parse(string json)
    {
        var result = DesiredStateJson.ParseConfig(Encoding.UTF8.GetBytes(json));
        Assert.True(result.Succeeded, result.Message);
        return result.Value!;
    }

    [Fact]
    public void A_document_without_tcp_listeners_hashes_as_before_and_an_empty_list_is_the_same_state()
    {
        var absent = Parse(WithoutListeners);
        var empty = Parse(WithoutListeners.Replace("}}}", "}},\"tcp_listeners\":[]}", StringComparison.Ordinal));
        Assert.Null(absent.TcpListeners);
        Assert.Equal(DesiredStateJson.ContentHash(absent), DesiredStateJson.ContentHash(empty));
        Assert.DoesNotContain("tcp_listeners", Encoding.UTF8.GetString(DesiredStateJson.Serialize(absent)), StringComparison.Ordinal);
    }

    [Fact]
    public void Tcp_listeners_round_trip_and_change_the_content_hash()
    {
        var json = WithoutListeners.Replace("}}}", """}},"tcp_listeners":[{"id":"pg","enabled":true,"listen":"0.0.0.0:5432","upstream_pool":"db","algorithm":"source","connect_timeout":"1s","idle_timeout":"30m","max_connections":50,"send_proxy":"v2"}]}""", StringComparison.Ordinal);
        var config = Parse(json);
        var listener = Assert.Single(config.TcpListeners!);
        Assert.Equal(new TcpListenerSpec
        {
            Id = "pg", Enabled = true, Listen = "0.0.0.0:5432", UpstreamPool = "db", Algorithm = "source",
            ConnectTimeout = "1s", IdleTimeout = "30m", MaxConnections = 50, SendProxy = "v2",
        }, listener);
        Assert.Equal(config.TcpListeners, Parse(Encoding.UTF8.GetString(DesiredStateJson.Serialize(config))).TcpListeners);
        Assert.NotEqual(DesiredStateJson.ContentHash(Parse(WithoutListeners)), DesiredStateJson.ContentHash(config));
        Assert.True(DesiredStateValidator.Validate(config).IsValid);
    }

    [Theory]
    [InlineData("127.0.0.1:0", true)]
    [InlineData("*:5432", true)]
    [InlineData(":5432", true)]
    [InlineData("[::1]:5432", true)]
    [InlineData("localhost:80", true)]
    [InlineData("db.example.com:5432", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.0.0.1:65536", false)]
    [InlineData("::1:5432", false)]
    [InlineData("", false)]
    public void Listen_accepts_local_addresses_with_a_port_from_0(string listen, bool valid)
    {
        var config = Parse(WithoutListeners.Replace("}}}", $$$"""}},"tcp_listeners":[{"id":"l","enabled":true,"listen":"{{{listen}}}","upstream_pool":"db"}]}""", StringComparison.Ordinal));
        var result = DesiredStateValidator.Validate(config);
        Assert.Equal(valid, result.IsValid);
        if (!valid)
        {
            Assert.Equal("tcp_listeners[0].listen", Assert.Single(result.Errors).Field);
        }
    }

    [Fact]
    public void Port_clashes_count_only_enabled_listeners_and_port_0_never_clashes()
    {
        static string L(string id, bool enabled, string listen) => $$"""{"id":"{{id}}","enabled":{{(enabled ? "true" : "false")}},"listen":"{{listen}}","upstream_pool":"db"}""";
        var config = Parse(WithoutListeners.Replace("}}}", "}},\"tcp_listeners\":[" + string.Join(",",
            L("a", true, "127.0.0.1:7000"), L("b", false, "127.0.0.1:7000"), L("c", true, "127.0.0.2:7000"),
            L("d", true, "127.0.0.1:0"), L("e", true, "127.0.0.1:0"), L("f", true, "*:7000")) + "]}", StringComparison.Ordinal));
        var error = Assert.Single(DesiredStateValidator.Validate(config).Errors);
        Assert.Equal(("tcp_listeners[5].listen", ValidationCodes.DuplicateListenAddress), (error.Field, error.Code));
    }

    [Fact]
    public void An_unknown_field_in_a_tcp_listener_is_rejected_with_its_path()
    {
        var result = DesiredStateJson.ParseConfig(Encoding.UTF8.GetBytes(WithoutListeners.Replace("}}}", """}},"tcp_listeners":[{"id":"l","listen":"127.0.0.1:0","upstream_pool":"db","idle":"5s"}]}""", StringComparison.Ordinal)));
        Assert.False(result.Succeeded);
        Assert.Contains("idle", result.Field ?? result.Message, StringComparison.Ordinal);
    }
}
