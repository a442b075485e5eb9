using System.Text;
using Lb.Core.Options;

namespace Lb.Core.Tests;

public class BootFileTests
{
    private static LbNodeOptions Parse(string json) => BootFile.Parse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void The_reference_example_loads()
    {
        var o = Parse("""{ "proxyListenAddr": ":8080", "dashboardListenAddr": ":9090", "raftDataDir": "/var/lib/lb/raft" }""");
        Assert.Equal(":8080", o.ProxyListenAddr);
        Assert.Equal("/var/lib/lb/raft", o.RaftDataDir);
    }

    [Fact]
    public void Empty_strings_and_missing_keys_take_the_defaults()
    {
        var o = Parse("""{ "proxyListenAddr": "" }""");
        Assert.Equal(LbNodeOptions.DefaultProxyListenAddr, o.ProxyListenAddr);
        Assert.Equal(LbNodeOptions.DefaultDashboardListenAddr, o.DashboardListenAddr);
        Assert.Equal(LbNodeOptions.DefaultRaftDataDir, o.RaftDataDir);
        Assert.Equal(50, o.ConfigHistoryLimit);
        Assert.Equal(7, Parse("""{ "configHistoryLimit": 7 }""").ConfigHistoryLimit);
    }

    [Fact]
    public void An_unknown_key_is_rejected_and_the_known_ones_are_listed()
    {
        var ex = Assert.Throws<BootFileException>(() => Parse("""{ "raftNodeId": "n1" }"""));
        Assert.Contains("unknown field 'raftNodeId'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("nodeId", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{} {}")]
    [InlineData("[]")]
    [InlineData("")]
    public void Anything_but_a_single_object_is_rejected(string json)
    {
        var ex = Assert.Throws<BootFileException>(() => Parse(json));
        Assert.Contains("single JSON object", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"proxyListenAddr":"8080"}""", "proxyListenAddr '8080' must be host:port")]
    [InlineData("""{"dashboardListenAddr":":99999"}""", "dashboardListenAddr ':99999' port must be")]
    [InlineData("""{"nodeId":"bad:node"}""", "nodeId 'bad:node' must contain only")]
    [InlineData("""{"raftAdvertiseAddr":"not-a-host-port"}""", "raftAdvertiseAddr 'not-a-host-port' must be host:port")]
    [InlineData("""{"adminToken":"short"}""", "adminToken must be at least 16 characters")]
    [InlineData("""{"adminReadRequiresToken":true}""", "adminReadRequiresToken is set but adminToken is empty")]
    [InlineData("""{"trustedProxies":["10.0.0.0/33"]}""", "trustedProxies[0] '10.0.0.0/33'")]
    [InlineData("""{"vipInterface":"eth0/1"}""", "vipInterface 'eth0/1' is not a Linux interface name")]
    [InlineData("""{"adminReadRequiresToken":"yes"}""", "invalid value at 'adminReadRequiresToken': expected true or false")]
    [InlineData("""{"proxyTlsCertificate":"/etc/hostname"}""", "proxyTlsCertificate and proxyTlsKey go together")]
    [InlineData("""{"configHistoryLimit":0}""", "configHistoryLimit 0 must be between 1 and 10000")]
    [InlineData("""{"configHistoryLimit":"50"}""", "invalid value at 'configHistoryLimit': expected a whole number")]
    [InlineData("""{"proxyTlsCertificate":"/nonexistent/cert.pem","proxyTlsKey":"/nonexistent/key.pem"}""", "proxyTlsCertificate '/nonexistent/cert.pem' does not exist")]
    public void Invalid_values_name_the_key_and_the_fix(string json, string message)
    {
        var ex = Assert.Throws<BootFileException>(() => Parse(json));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_says_how_to_start_without_one()
    {
        var ex = Assert.Throws<BootFileException>(() => BootFile.Load("/nonexistent/app.json"));
        Assert.Contains("file not found", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(":8080", "", 8080, "http://*:8080")]
    [InlineData("127.0.0.1:0", "127.0.0.1", 0, "http://127.0.0.1:0")]
    [InlineData("[::1]:9090", "::1", 9090, "http://[::1]:9090")]
    public void Listen_addresses_parse_go_style(string text, string host, int port, string url)
    {
        Assert.True(ListenAddress.TryParse(text, out var address, out var error), error);
        Assert.Equal(new ListenAddress(host, port), address);
        Assert.Equal(url, address!.ToUrl());
    }

    [Fact]
    public void Connection_budgets_and_keep_alive_load_and_bad_values_name_the_key()
    {
        var o = Parse("""{ "maxProxyConnections": 5000, "maxAdminConnections": 16, "keepAliveTimeout": "30s" }""");
        Assert.Equal(5000, o.MaxProxyConnections);
        Assert.Equal(16, o.MaxAdminConnections);
        Assert.Equal("30s", o.KeepAliveTimeout);
        Assert.Equal(LbNodeOptions.DefaultKeepAliveTimeout, Parse("{}").KeepAliveTimeout);

        Assert.Contains("maxProxyConnections -1 must be 0", Assert.Throws<BootFileException>(() => Parse("""{ "maxProxyConnections": -1 }""")).Message, StringComparison.Ordinal);
        Assert.Contains("keepAliveTimeout 'soon' must be a positive duration", Assert.Throws<BootFileException>(() => Parse("""{ "keepAliveTimeout": "soon" }""")).Message, StringComparison.Ordinal);
        Assert.Contains("expected a whole number", Assert.Throws<BootFileException>(() => Parse("""{ "maxAdminConnections": "many" }""")).Message, StringComparison.Ordinal);
    }
}
