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
        Assert.Equal("/var/lib/lb/raft", o.DataDir);
    }

    [Fact]
    public void Empty_strings_and_missing_keys_take_the_defaults()
    {
        var o = Parse("""{ "proxyListenAddr": "" }""");
        Assert.Equal(LbNodeOptions.DefaultProxyListenAddr, o.ProxyListenAddr);
        Assert.Equal(LbNodeOptions.DefaultDashboardListenAddr, o.DashboardListenAddr);
        Assert.Equal(LbNodeOptions.DefaultDataDir, o.DataDir);
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
    [InlineData("""{"vipInterface":"eth0/1"}""", "vipInterface 'eth0/1' is not a Linux interface name")]
    [InlineData("""{"vipInterface":"eth0","vipAddress":"10.0.0.100"}""", "vipAddress '10.0.0.100': vip address must be CIDR")]
    [InlineData("""{"vipInterface":"eth0","vipAddress":"fd00::100/64"}""", "vipAddress 'fd00::100/64': vip address must be IPv4")]
    [InlineData("""{"vipAddress":"10.0.0.100/24"}""", "vipAddress is set but vipInterface is empty")]
    [InlineData("""{"nodeId":5}""", "invalid value at 'nodeId': expected a string")]
    [InlineData("""{"adminToken":"short"}""", "adminToken must be at least 16 characters")]
    [InlineData("""{"trustedProxies":["10.0.0.1"]}""", "unknown field 'trustedProxies'")]
    [InlineData("""{"configHistoryLimit":0}""", "configHistoryLimit 0 must be between 1 and 10000")]
    [InlineData("""{"configHistoryLimit":"50"}""", "invalid value at 'configHistoryLimit': expected a whole number")]
    [InlineData("""{"raftTlsCertificate":"/etc/hostname","raftTlsKey":"/etc/hostname"}""", "raftTlsCertificate, raftTlsKey and raftTlsCa go together but raftTlsCa is empty")]
    [InlineData("""{"raftTlsCa":"/etc/hostname"}""", "go together but raftTlsCertificate, raftTlsKey is empty")]
    [InlineData("""{"raftTlsCertificate":"/nonexistent/c.pem","raftTlsKey":"/etc/hostname","raftTlsCa":"/etc/hostname"}""", "raftTlsCertificate '/nonexistent/c.pem' does not exist")]
    [InlineData("""{"raftTlsCertificate":"/etc/hostname","raftTlsKey":"/etc/hostname","raftTlsCa":"/etc/hostname"}""", "raftTlsCertificate '/etc/hostname' and raftTlsKey '/etc/hostname' do not load as a PEM certificate")]
    public void Invalid_values_name_the_key_and_the_fix(string json, string message)
    {
        var ex = Assert.Throws<BootFileException>(() => Parse(json));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_may_be_written_in_snake_case_as_api_status_prints_them()
    {
        var o = Parse("""{ "proxy_listen_addr": "127.0.0.1:8081", "dashboard_listen_addr": ":9091", "admin_read_requires_token": false, "config_history_limit": 9 }""");
        Assert.Equal("127.0.0.1:8081", o.ProxyListenAddr);
        Assert.Equal(":9091", o.DashboardListenAddr);
        Assert.Equal(9, o.ConfigHistoryLimit);

        // Other packages' keys map to the same configuration keys as their camelCase form.
        var values = BootFile.ReadConfiguration("""{ "trusted_proxies": ["10.0.0.0/8"], "access_log": true }"""u8, "app.json", [typeof(TrustedKeys)]);
        Assert.Equal("10.0.0.0/8", values["Lb:TrustedProxies:0"]);
        Assert.Equal("true", values["Lb:AccessLog"]);
    }

    [Fact]
    public void The_same_key_in_both_spellings_is_an_error_naming_both()
    {
        var ex = Assert.Throws<BootFileException>(() => Parse("""{ "proxy_listen_addr": ":1", "proxyListenAddr": ":2" }"""));
        Assert.Contains("'proxy_listen_addr' and 'proxyListenAddr' are the same key", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "proxyListenAdr": ":1" }""", "unknown field 'proxyListenAdr': did you mean 'proxyListenAddr'?")]
    [InlineData("""{ "proxy_listen_adr": ":1" }""", "unknown field 'proxy_listen_adr': did you mean 'proxyListenAddr'?")]
    [InlineData("""{ "max_proxy_connections": "many" }""", "invalid value at 'max_proxy_connections': expected a whole number")]
    public void A_misspelled_or_mistyped_key_is_quoted_as_written_and_the_meant_key_is_named(string json, string message)
    {
        var ex = Assert.Throws<BootFileException>(() => Parse(json));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_data_directory_is_dataDir_and_the_reference_raftDataDir_still_works()
    {
        Assert.Equal("data", Parse("{}").DataDir);
        Assert.Equal("/srv/lb", Parse("""{ "dataDir": "/srv/lb" }""").DataDir);
        Assert.Equal("/srv/old", Parse("""{ "raftDataDir": "/srv/old" }""").DataDir);
        Assert.Equal("/srv/new", Parse("""{ "raftDataDir": "/srv/old", "dataDir": "/srv/new" }""").DataDir);
    }

    [Fact]
    public void The_node_header_defaults_to_an_Lb_name_and_must_be_a_header_name()
    {
        Assert.Equal("X-Lb-Node", Parse("{}").NodeHeader);
        Assert.Equal("X-AjouLB-LB-Node", Parse("""{ "nodeHeader": "X-AjouLB-LB-Node" }""").NodeHeader);
        var ex = Assert.Throws<BootFileException>(() => Parse("""{ "nodeHeader": "X Lb: Node" }"""));
        Assert.Contains("nodeHeader 'X Lb: Node' is not an HTTP header name", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\n  \"proxyListenAddr\": \":8080\",\n}", 3, 1)]
    [InlineData("{\n  \"proxyListenAddr\": :8080\n}", 2, 22)]
    public void Malformed_json_names_the_line_and_column_counting_from_1(string json, int line, int column)
    {
        var ex = Assert.Throws<BootFileException>(() => Parse(json));
        Assert.Contains($"malformed JSON at line {line}, column {column}:", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(":8080", ":8080")]
    [InlineData("127.0.0.1:8080", ":8080")]
    [InlineData("127.0.0.1:8080", "127.0.0.1:8080")]
    public void Proxy_and_admin_on_the_same_port_is_an_error_that_says_so(string proxy, string admin)
    {
        var ex = Assert.Throws<BootFileException>(() => Parse($$"""{ "proxyListenAddr": "{{proxy}}", "dashboardListenAddr": "{{admin}}" }"""));
        Assert.Contains("are the same port; the admin API needs a port of its own", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_port_on_different_addresses_is_allowed()
    {
        var o = Parse("""{ "proxyListenAddr": "127.0.0.1:8080", "dashboardListenAddr": "127.0.0.2:8080" }""");
        Assert.Equal("127.0.0.2:8080", o.DashboardListenAddr);
    }

    [Theory]
    [InlineData("0.0.0.0:9090")]
    [InlineData("10.1.2.3:9090")]
    [InlineData("[::]:9090")]
    public void An_explicit_non_loopback_admin_address_without_a_token_is_refused(string admin)
    {
        var ex = Assert.Throws<BootFileException>(() => Parse($$"""{ "dashboardListenAddr": "{{admin}}" }"""));
        Assert.Contains("would open the admin API beyond this machine with no adminToken", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "dashboardListenAddr": "0.0.0.0:9090", "adminToken": "0123456789abcdef0123" }""")]
    [InlineData("""{ "dashboardListenAddr": "0.0.0.0:9090", "adminInsecure": true }""")]
    [InlineData("""{ "dashboardListenAddr": "127.0.0.1:9090" }""")]
    [InlineData("""{ "dashboardListenAddr": "localhost:9090" }""")]
    [InlineData("""{ "dashboardListenAddr": ":9090" }""")]
    public void A_token_an_explicit_opt_in_or_loopback_lets_the_admin_address_through(string json) => Parse(json);

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

    private sealed class TrustedKeys
    {
        public IList<string> TrustedProxies { get; set; } = [];

        public bool AccessLog { get; set; }
    }
}
