using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lb.Core.Json;
using Lb.Core.Validation;
using Lb.Server.Import;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>
/// <c>config import</c>: one small haproxy.cfg per directive against its expected translation (golden files under
/// <c>golden/import/</c>), and the seed configurations routed through a real Lb the way HAProxy routes them.
/// </summary>
public sealed class HaproxyImportTests
{
    private const string Http = "defaults\n  mode http\n";

    public static TheoryData<string, string> Directives() => new()
    {
        { "listen-servers", "listen web :80\n  mode http\n  server a 10.0.0.1:80\n  server b 10.0.0.2:8080 weight 3\n" },
        { "default-backend", Http + "frontend fe\n  bind :80\n  default_backend app\nbackend app\n  server a 10.0.0.1:80\n" },
        { "acl-path-kinds", Http + "frontend fe\n  acl exact path /login\n  acl beg path_beg /api\n  acl reg path_reg ^/v[0-9]+/\n  acl end path_end -i .JPG\n"
            + "  use_backend a if exact\n  use_backend b if beg\n  use_backend c if reg\n  use_backend d if end\n  default_backend d\n"
            + "backend a\n  server a 10.0.0.1:80\nbackend b\n  server b 10.0.0.2:80\nbackend c\n  server c 10.0.0.3:80\nbackend d\n  server d 10.0.0.4:80\n" },
        { "acl-host-and-path", Http + "frontend fe\n  acl shop hdr(host) -i shop.example.com\n  acl api path_beg /api/\n  use_backend api if shop api\n  use_backend web if shop\n  default_backend other\n"
            + "backend api\n  server a 10.0.0.1:80\nbackend web\n  server b 10.0.0.2:80\nbackend other\n  server c 10.0.0.3:80\n" },
        { "acl-hdr-dom", Http + "frontend fe\n  acl ex hdr_dom(host) -i example.com\n  use_backend ex if ex\n  default_backend other\n"
            + "backend ex\n  server a 10.0.0.1:80\nbackend other\n  server c 10.0.0.3:80\n" },
        { "acl-hdr-beg", Http + "frontend fe\n  acl api hdr_beg(host) api.\n  use_backend api if api\n  default_backend other\n"
            + "backend api\n  server a 10.0.0.1:80\nbackend other\n  server c 10.0.0.3:80\n" },
        { "use-backend-negated", Http + "frontend fe\n  acl is_api path_beg /api\n  use_backend static if !is_api\n  default_backend api\n"
            + "backend api\n  server a 10.0.0.1:80\nbackend static\n  server b 10.0.0.2:80\n" },
        { "use-backend-or", Http + "frontend fe\n  acl img path_end .png\n  acl css path_end .css\n  use_backend static if img || css\n  default_backend app\n"
            + "backend app\n  server a 10.0.0.1:80\nbackend static\n  server b 10.0.0.2:80\n" },
        { "rule-order-host-after-path", Http + "frontend fe\n  acl api path_beg /api\n  acl shop hdr(host) shop.example.com\n  use_backend api if api\n  use_backend shop if shop\n  default_backend app\n"
            + "backend api\n  server a 10.0.0.1:80\nbackend shop\n  server b 10.0.0.2:80\nbackend app\n  server c 10.0.0.3:80\n" },
        { "balance-leastconn", Http + "backend app\n  balance leastconn\n  server a 10.0.0.1:80\nfrontend fe\n  default_backend app\n" },
        { "balance-hashes", Http + "backend src\n  balance source\n  server a 10.0.0.1:80\nbackend u\n  balance uri\n  server a 10.0.0.1:80\n"
            + "backend p\n  balance url_param userid\n  server a 10.0.0.1:80\nbackend h\n  balance hdr(X-User)\n  server a 10.0.0.1:80\nbackend r\n  balance random\n  server a 10.0.0.1:80\n"
            + "frontend fe\n  use_backend src if { path_beg /src }\n  use_backend u if { path_beg /u }\n  use_backend p if { path_beg /p }\n  use_backend h if { path_beg /h }\n  default_backend r\n" },
        { "balance-first", Http + "backend app\n  balance first\n  server a 10.0.0.1:80\nfrontend fe\n  default_backend app\n" },
        { "balance-static-rr", Http + "backend app\n  balance static-rr\n  server a 10.0.0.1:80\nfrontend fe\n  default_backend app\n" },
        { "server-check-httpchk", Http + "  timeout check 800ms\nbackend app\n  option httpchk GET /health\n  http-check expect status 204\n"
            + "  server a 10.0.0.1:80 check inter 3s rise 4 fall 2\n  server b 10.0.0.2:80 check inter 3s rise 4 fall 2\nfrontend fe\n  default_backend app\n" },
        { "server-check-tcp", Http + "backend app\n  server a 10.0.0.1:80 check\nfrontend fe\n  default_backend app\n" },
        { "server-check-mixed", Http + "backend app\n  server a 10.0.0.1:80 check\n  server b 10.0.0.2:80\nfrontend fe\n  default_backend app\n" },
        { "cookie-insert", Http + "backend app\n  cookie SERVERID insert indirect nocache secure\n  server a 10.0.0.1:80 cookie a\n  server b 10.0.0.2:80 cookie b\nfrontend fe\n  default_backend app\n" },
        { "cookie-prefix", Http + "backend app\n  cookie JSESSIONID prefix\n  server a 10.0.0.1:80 cookie a\nfrontend fe\n  default_backend app\n" },
        { "cookie-rewrite-httponly", Http + "backend app\n  cookie SERVERID rewrite httponly secure\n  server a 10.0.0.1:80 cookie a\nfrontend fe\n  default_backend app\n" },
        { "cookie-passive", Http + "backend app\n  cookie SERVERID\n  server a 10.0.0.1:80 cookie a\nfrontend fe\n  default_backend app\n" },
        { "timeouts", Http + "  timeout connect 2s\n  timeout server 30s\n  timeout client 1m\nbackend app\n  timeout server 5000\n  server a 10.0.0.1:80\nfrontend fe\n  default_backend app\n" },
        { "server-states-slowstart", Http + "backend app\n  default-server slowstart 30s\n  server a 10.0.0.1:80\n  server b 10.0.0.2:80 disabled\n  server c 10.0.0.3:80 weight 0\nfrontend fe\n  default_backend app\n" },
        { "server-maxconn", Http + "backend app\n  timeout queue 10s\n  server a 10.0.0.1:80 maxconn 100\n  server b 10.0.0.2:80 maxconn 0\nfrontend fe\n  default_backend app\n" },
        { "server-maxqueue-minconn", Http + "backend app\n  server a 10.0.0.1:80 maxconn 10 maxqueue 5 minconn 2\nfrontend fe\n  default_backend app\n" },
        { "timeout-queue-without-maxconn", Http + "backend app\n  timeout queue 5s\n  server a 10.0.0.1:80\nfrontend fe\n  timeout client 30s\n  default_backend app\n" },
        { "mode-tcp", "defaults\n  mode tcp\nfrontend fe\n  bind :5432\n  default_backend db\nbackend db\n  server a 10.0.0.1:5432\n" },
        { "no-mode-is-tcp", "frontend fe\n  default_backend app\nbackend app\n  server a 10.0.0.1:80\n" },
        { "tcp-listen-leastconn-check", "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 30m\n  timeout server 1h\nlisten pg\n  bind :5432\n  bind 10.0.0.9:6432\n  maxconn 500\n  balance leastconn\n"
            + "  server db1 10.0.0.1:5432 check inter 2s rise 2 fall 3 send-proxy-v2\n  server db2 10.0.0.2:5432 check inter 2s rise 2 fall 3 send-proxy-v2\n" },
        { "tcp-frontend-backend", "global\n  daemon\ndefaults\n  mode http\nfrontend web\n  bind :80\n  default_backend app\nfrontend redis\n  mode tcp\n  bind 127.0.0.1:6379\n  option tcplog\n  timeout client 1m\n"
            + "  use_backend redis_replicas if { dst_port 6380 }\n  default_backend redis\nbackend app\n  server a 10.0.0.1:80\nbackend redis\n  mode tcp\n  balance uri\n  timeout tunnel 10m\n  option httpchk GET /health\n  server r1 10.0.0.5:6379 check\nbackend redis_replicas\n  mode tcp\n  server r2 10.0.0.6:6379\n" },
        { "unknown-directive", Http + "frontend fe\n  http-request deny if { path_beg /admin }\n  default_backend app\nbackend app\n  server a 10.0.0.1:80\n" },
        { "anonymous-acl", Http + "frontend fe\n  use_backend api if { path_beg /api/ }\n  default_backend app\nbackend app\n  server a 10.0.0.1:80\nbackend api\n  server b 10.0.0.2:80\n" },
    };

    [Theory]
    [MemberData(nameof(Directives))]
    public void Directive_translates_to_the_expected_configuration(string name, string cfg)
    {
        var result = HaproxyImporter.Import(cfg);
        var config = JsonNode.Parse(DesiredStateJson.Serialize(result.Config))!;
        var document = new JsonObject
        {
            ["complete"] = result.Complete,
            ["notes"] = new JsonArray([.. result.Notes.Select(n => (JsonNode)$"{n.Line}: {(n.Untranslated ? "not translated" : "note")}: {n.Message}")]),
            ["config"] = config,
        };
        Golden.AssertMatches(Path.Combine("import", name), document.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        // Whatever was or was not translated, the output is a configuration the API accepts.
        Assert.True(DesiredStateValidator.Validate(result.Config, algorithms: Lb.Balancing.LoadBalancingPolicies.CreateDefault()).IsValid);
    }

    private static string Seed(string name) => File.ReadAllText(Path.Combine(RepoPaths.Root(), "tests", "Lb.IntegrationTests", "haproxy", name));

    private static async Task<string> BackendOfAsync(LbServer lb, string path)
    {
        using var response = await lb.Proxy.GetAsync(path, TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("X-Backend").Single();
    }

    [Fact]
    public async Task Seed_003_routes_item_and_basket_to_their_backends_and_the_rest_to_webservers()
    {
        string[] names = ["echo-web1-item", "echo-web2-item", "echo-web3-basket", "echo-web4-basket"];
        var backends = new List<TestBackend>();
        try
        {
            var cfg = Seed("seed003.cfg");
            foreach (var name in names)
            {
                var backend = await TestBackend.StartAsync(name);
                backends.Add(backend);
                cfg = cfg.Replace($"{name}:8080", backend.Address, StringComparison.Ordinal);
            }
            var result = HaproxyImporter.Import(cfg);
            Assert.True(result.Complete, string.Join('\n', result.Notes.Where(n => n.Untranslated)));

            await using var lb = await LbServer.StartAsync();
            await lb.PutConfigAsync(Encoding.UTF8.GetString(DesiredStateJson.Serialize(result.Config)));

            var item = new HashSet<string>();
            var basket = new HashSet<string>();
            var other = new HashSet<string>();
            for (var i = 0; i < 4; i++)
            {
                item.Add(await BackendOfAsync(lb, "/item"));
                basket.Add(await BackendOfAsync(lb, "/basket/42"));
                other.Add(await BackendOfAsync(lb, "/"));
            }
            Assert.Equal(["echo-web1-item", "echo-web2-item"], item.Order());
            Assert.Equal(["echo-web3-basket", "echo-web4-basket"], basket.Order());
            Assert.Equal(names.Order(), other.Order());
            // path_beg is a string prefix, not a segment prefix: HAProxy sends /items to the item servers too.
            Assert.StartsWith("echo-web", await BackendOfAsync(lb, "/items"), StringComparison.Ordinal);
            Assert.Contains(await BackendOfAsync(lb, "/items"), item);
        }
        finally
        {
            foreach (var backend in backends)
            {
                await backend.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_mode_tcp_listen_section_imports_to_a_tcp_listener_that_relays_with_leastconn_and_send_proxy()
    {
        await using var a = TcpEchoBackend.Start();
        await using var b = TcpEchoBackend.Start();
        var cfg = "defaults\n  mode tcp\n  timeout client 1m\nlisten db\n  bind 127.0.0.1:0\n  balance leastconn\n"
            + $"  server a {a.Address} send-proxy\n  server b {b.Address} send-proxy\n";
        var result = HaproxyImporter.Import(cfg);
        Assert.True(result.Complete, string.Join('\n', result.Notes.Where(n => n.Untranslated)));
        await using var lb = await LbServer.StartAsync();
        await lb.PutConfigAsync(Encoding.UTF8.GetString(DesiredStateJson.Serialize(result.Config)));

        var port = 0;
        await ProxyTests.WaitUntilAsync(async () =>
        {
            var runtime = JsonDocument.Parse(await lb.Admin.GetStringAsync("/api/runtime", TestContext.Current.CancellationToken)).RootElement;
            var view = runtime.GetProperty("tcp_listeners")[0];
            Assert.Equal("least_connection", view.GetProperty("algorithm").GetString());
            port = view.GetProperty("state").GetString() == "listening" ? view.GetProperty("port").GetInt32() : 0;
            return port != 0;
        });
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port), TestContext.Current.CancellationToken);
        await socket.SendAsync("hello"u8.ToArray(), System.Net.Sockets.SocketFlags.None, TestContext.Current.CancellationToken);
        socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        var received = new MemoryStream();
        var buffer = new byte[256];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, System.Net.Sockets.SocketFlags.None, TestContext.Current.CancellationToken)) > 0)
        {
            received.Write(buffer, 0, read);
        }
        // The target echoes the PROXY v1 header (send-proxy) and then the client's bytes.
        var text = Encoding.ASCII.GetString(received.ToArray());
        Assert.StartsWith($"PROXY TCP4 127.0.0.1 127.0.0.1 {((System.Net.IPEndPoint)socket.LocalEndPoint!).Port} {port}\r\n", text, StringComparison.Ordinal);
        Assert.EndsWith("hello", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Seed_004_imports_httpchk_with_inter_rise_fall_and_the_jsessionid_prefix_cookie()
    {
        var result = HaproxyImporter.Import(Seed("seed004.cfg"));
        Assert.True(result.Complete, string.Join('\n', result.Notes.Where(n => n.Untranslated)));
        Assert.Contains(result.Notes, n => n.Line == 19 && n.Message.Contains("overridden by the cookie line 20", StringComparison.Ordinal));
        var (id, pool) = Assert.Single(result.Config.UpstreamPools);
        Assert.Equal("webfarm", id);
        Assert.Equal(["10.101.27.49:80", "10.101.26.50:80"], pool.Upstreams.Select(u => u.Address));
        Assert.Equal("/l7check.html", pool.HealthCheck!.Path);
        Assert.Equal(200, pool.HealthCheck.ExpectStatus);
        Assert.Equal("1s", pool.HealthCheck.Interval);
        Assert.Null(pool.HealthCheck.Rise); // 2 is the default
        Assert.Equal(5, pool.HealthCheck.Fall);
        var route = Assert.Single(result.Config.Routes);
        Assert.Equal(("sticky_cookie", "prefix", "JSESSIONID"), (route.Algorithm, route.StickyCookie!.Mode, route.StickyCookie.Name));
    }

    [Fact]
    public async Task Seed_004_prefixes_the_application_session_cookie_and_strips_it_on_the_way_back()
    {
        await using var one = await TestBackend.StartAsync("xvadm01");
        await using var two = await TestBackend.StartAsync("xvadm02");
        var cfg = Seed("seed004.cfg").Replace("10.101.27.49:80", one.Address, StringComparison.Ordinal)
            .Replace("10.101.26.50:80", two.Address, StringComparison.Ordinal).Replace("/l7check.html", "/health", StringComparison.Ordinal);
        var result = HaproxyImporter.Import(cfg);
        await using var lb = await LbServer.StartAsync();
        await lb.PutConfigAsync(Encoding.UTF8.GetString(DesiredStateJson.Serialize(result.Config)));

        using var login = await lb.Proxy.GetAsync("/session", TestContext.Current.CancellationToken);
        var server = await login.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var cookies = login.Headers.GetValues("Set-Cookie").ToList();
        var session = Assert.Single(cookies, c => c.StartsWith("JSESSIONID=", StringComparison.Ordinal));
        // The application's value, behind the target's key: JSESSIONID=<key>~xvadm0N-s1.
        Assert.Matches($"^JSESSIONID=[^~;]+~{server}-s1; Path=/$", session);
        Assert.Contains("SERVERID=; Path=/", cookies); // other cookies pass untouched

        var pinned = server == "xvadm01" ? one : two;
        for (var i = 0; i < 4; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/info");
            request.Headers.Add("Cookie", session.Split(';')[0] + "; theme=dark");
            using var response = await lb.Proxy.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(server, response.Headers.GetValues("X-Backend").Single());
            Assert.Equal($"JSESSIONID={server}-s1; theme=dark", pinned.LastHeaders!["Cookie"].ToString());
        }
    }

    [Fact]
    public async Task Seed_004_balances_over_both_servers_and_its_httpchk_takes_a_failing_server_out()
    {
        await using var one = await TestBackend.StartAsync("xvadm01");
        await using var two = await TestBackend.StartAsync("xvadm02");
        two.HealthStatus = 503;
        // The test backends answer their check on /health.
        var cfg = Seed("seed004.cfg").Replace("10.101.27.49:80", one.Address, StringComparison.Ordinal)
            .Replace("10.101.26.50:80", two.Address, StringComparison.Ordinal).Replace("/l7check.html", "/health", StringComparison.Ordinal);
        var result = HaproxyImporter.Import(cfg);

        await using var lb = await LbServer.StartAsync();
        await lb.PutConfigAsync(Encoding.UTF8.GetString(DesiredStateJson.Serialize(result.Config)));
        // The first probe decides at once; wait for it (a bound, not a speed requirement).
        for (var i = 0; i < 100 && !(await lb.Admin.GetStringAsync("/api/runtime", TestContext.Current.CancellationToken)).Contains("unexpected status: 503", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        var seen = new HashSet<string>();
        for (var i = 0; i < 4; i++)
        {
            seen.Add(await BackendOfAsync(lb, "/app"));
        }
        Assert.Equal(["xvadm01"], seen);

        two.HealthStatus = 200;
        for (var i = 0; i < 100 && seen.Count < 2; i++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            seen.Add(await BackendOfAsync(lb, "/app"));
        }
        Assert.Equal(["xvadm01", "xvadm02"], seen.Order());
    }

    [Fact]
    public async Task Cli_exit_codes_say_translated_partly_translated_or_usage_error()
    {
        using var dir = new TempDirectory();
        File.Copy(Path.Combine(RepoPaths.Root(), "tests", "Lb.IntegrationTests", "haproxy", "seed003.cfg"), Path.Combine(dir.Path, "haproxy.cfg"));
        await File.WriteAllTextAsync(Path.Combine(dir.Path, "partial.cfg"), "defaults\n  mode http\nbackend app\n  balance first\n  server a 10.0.0.1:80\nfrontend fe\n  default_backend app\n", TestContext.Current.CancellationToken);

        var ok = await CliProcessTests.RunAsync(dir.Path, "config", "import", "haproxy.cfg");
        Assert.True(ok.Exit == 0, ok.Err);
        Assert.True(DesiredStateJson.ParseConfigDocument(Encoding.UTF8.GetBytes(ok.Out)).Succeeded);
        Assert.Contains("haproxy.cfg:14: note: bind :80", ok.Err, StringComparison.Ordinal);

        var partial = await CliProcessTests.RunAsync(dir.Path, "config", "import", "partial.cfg");
        Assert.Equal(1, partial.Exit);
        Assert.Contains("partial.cfg:4: not translated: balance first", partial.Err, StringComparison.Ordinal);
        Assert.True(DesiredStateJson.ParseConfigDocument(Encoding.UTF8.GetBytes(partial.Out)).Succeeded);

        var missing = await CliProcessTests.RunAsync(dir.Path, "config", "import", "nope.cfg");
        Assert.Equal(2, missing.Exit);
        var noArgument = await CliProcessTests.RunAsync(dir.Path, "config", "import");
        Assert.Equal(2, noArgument.Exit);
    }
}
