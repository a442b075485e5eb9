using System.Net;
using System.Net.WebSockets;
using System.Text;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>The proxy's behaviour end to end; run against both paths by the two classes after it.</summary>
public abstract class ProxyTests(ProxyPath path) : ProxyPathTests(path), IAsyncLifetime
{
    private LbServer _lb = null!;
    private readonly List<TestBackend> _backends = [];

    public async ValueTask InitializeAsync() => _lb = await StartLbAsync(proxy: o => o.TrustedProxies = ["127.0.0.1/32"]);

    public async ValueTask DisposeAsync()
    {
        await _lb.DisposeAsync();
        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }
    }

    private async Task<TestBackend[]> BackendsAsync(params string[] names)
    {
        var started = new List<TestBackend>();
        foreach (var name in names)
        {
            var backend = await TestBackend.StartAsync(name);
            _backends.Add(backend);
            started.Add(backend);
        }
        return [.. started];
    }

    private async Task<HttpResponseMessage> GetAsync(string host, string path, Action<HttpRequestMessage>? configure = null, HttpClient? client = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = host;
        configure?.Invoke(request);
        return await (client ?? _lb.Proxy).SendAsync(request, TestContext.Current.CancellationToken);
    }

    private static string BackendOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Backend", out var values) ? values.Single() : $"(status {(int)response.StatusCode})";

    [Fact]
    public async Task Round_robin_spreads_requests_exactly_evenly_in_config_order()
    {
        var backends = await BackendsAsync("a", "b", "c");
        await _lb.PutConfigAsync(Configs.SingleRoute("rr.test", "round_robin", backends));
        var seen = new List<string>();
        for (var i = 0; i < 9; i++)
        {
            using var response = await GetAsync("rr.test", "/api/info");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            seen.Add(BackendOf(response));
        }
        Assert.Equal(["a", "b", "c", "a", "b", "c", "a", "b", "c"], seen);
    }

    [Fact]
    public async Task Sticky_cookie_pins_a_client_and_does_not_reveal_the_backend()
    {
        var backends = await BackendsAsync("a", "b");
        await _lb.PutConfigAsync(Configs.SingleRoute("sticky.test", "sticky_cookie", backends));
        using var first = await GetAsync("sticky.test", "/");
        var setCookie = Assert.Single(first.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("rp_sticky_r1=", setCookie, StringComparison.Ordinal);
        Assert.Contains("HttpOnly", setCookie, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", setCookie, StringComparison.Ordinal);
        var cookie = setCookie.Split(';')[0];
        var pinned = BackendOf(first);
        for (var i = 0; i < 20; i++)
        {
            using var again = await GetAsync("sticky.test", "/", r => r.Headers.Add("Cookie", cookie));
            Assert.Equal(pinned, BackendOf(again));
            Assert.False(again.Headers.Contains("Set-Cookie"));
        }
    }

    private static string StickyRoute(string mode, string name, string extra, params TestBackend[] backends) =>
        "{\"routes\":[{\"id\":\"r1\",\"enabled\":true,\"algorithm\":\"sticky_cookie\",\"sticky_cookie\":{\"mode\":\"" + mode + "\",\"name\":\"" + name + "\"" + extra
        + "},\"match\":{\"hosts\":[\"sticky.test\"]},\"upstream_pool\":\"pool\"}],\"upstream_pools\":{\"pool\":{\"upstreams\":["
        + string.Join(",", backends.Select(b => $"\"{b.Address}\"")) + "]}}}";

    [Fact]
    public async Task Sticky_prefix_mode_keys_the_application_cookie_and_hands_the_application_its_own_value_back()
    {
        var backends = await BackendsAsync("a", "b");
        await _lb.PutConfigAsync(StickyRoute("prefix", "JSESSIONID", "", backends));
        using var login = await GetAsync("sticky.test", "/session");
        var server = BackendOf(login);
        var cookies = login.Headers.GetValues("Set-Cookie").ToList();
        // The application's value behind the target's key; other cookies untouched; no cookie of Lb's own.
        var session = Assert.Single(cookies, c => c.StartsWith("JSESSIONID=", StringComparison.Ordinal));
        Assert.Matches($"^JSESSIONID=[^~;]+~{server}-s1; Path=/$", session);
        Assert.Contains("SERVERID=; Path=/", cookies);
        Assert.Equal(2, cookies.Count);
        var pinned = backends.Single(b => b.Name == server);
        for (var i = 0; i < 6; i++)
        {
            using var again = await GetAsync("sticky.test", "/api/info", r => r.Headers.Add("Cookie", session.Split(';')[0] + "; theme=dark"));
            Assert.Equal(server, BackendOf(again));
            Assert.Equal($"JSESSIONID={server}-s1; theme=dark", pinned.LastHeaders!["Cookie"].ToString());
            Assert.False(again.Headers.Contains("Set-Cookie"));
        }
    }

    [Fact]
    public async Task Sticky_rewrite_mode_replaces_the_application_cookie_value_with_the_target_key_and_pins_on_it()
    {
        var backends = await BackendsAsync("a", "b");
        await _lb.PutConfigAsync(StickyRoute("rewrite", "SERVERID", ",\"http_only\":true", backends));
        using var login = await GetAsync("sticky.test", "/session");
        var server = BackendOf(login);
        var cookies = login.Headers.GetValues("Set-Cookie").ToList();
        var rewritten = Assert.Single(cookies, c => c.StartsWith("SERVERID=", StringComparison.Ordinal));
        Assert.Matches("^SERVERID=[^;]+; Path=/; HttpOnly$", rewritten);
        Assert.DoesNotContain("127.0.0.1", rewritten, StringComparison.Ordinal);
        Assert.Contains($"JSESSIONID={server}-s1; Path=/", cookies);
        Assert.Equal(2, cookies.Count);
        var pinned = backends.Single(b => b.Name == server);
        for (var i = 0; i < 6; i++)
        {
            using var again = await GetAsync("sticky.test", "/api/info", r => r.Headers.Add("Cookie", rewritten.Split(';')[0]));
            Assert.Equal(server, BackendOf(again));
            // rewrite changes nothing on the way in: the key is the cookie's whole value.
            Assert.Equal(rewritten.Split(';')[0], pinned.LastHeaders!["Cookie"].ToString());
        }
    }

    [Fact]
    public async Task Five_tuple_hash_keeps_a_forwarded_client_on_one_backend_when_the_peer_is_trusted()
    {
        var backends = await BackendsAsync("a", "b", "c");
        await _lb.PutConfigAsync(Configs.SingleRoute("tuple.test", "5_tuple_hash", backends));
        foreach (var client in new[] { "203.0.113.10", "198.51.100.20" })
        {
            var chosen = new HashSet<string>();
            for (var i = 0; i < 10; i++)
            {
                // A fresh connection each time: a new source port must not move the client.
                using var fresh = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { BaseAddress = _lb.ProxyUri };
                using var response = await GetAsync("tuple.test", "/", r => r.Headers.Add("X-Forwarded-For", client), fresh);
                chosen.Add(BackendOf(response));
            }
            Assert.Single(chosen);
        }
    }

    [Fact]
    public async Task Least_connection_sends_a_concurrent_request_to_the_idle_backend()
    {
        var backends = await BackendsAsync("slow", "fast");
        await _lb.PutConfigAsync(Configs.SingleRoute("least.test", "least_connection", backends));
        var held = GetAsync("least.test", "/hold");
        await WaitUntilAsync(() => backends[0].Held + backends[1].Held == 1);
        using var second = await GetAsync("least.test", "/api/info");
        Assert.False(held.IsCompleted);
        foreach (var backend in backends)
        {
            backend.ReleaseHeld();
        }
        using var first = await held;
        Assert.NotEqual(BackendOf(first), BackendOf(second));
        var runtime = await _lb.GetJsonAsync<System.Text.Json.JsonElement>("/api/runtime");
        Assert.All(runtime.GetProperty("upstreams")[0].GetProperty("targets").EnumerateArray(), t => Assert.Equal(0, t.GetProperty("active_connections").GetInt32()));
    }

    [Fact]
    public async Task Host_and_path_precedence_pick_the_most_specific_route()
    {
        var backends = await BackendsAsync("login", "api", "wild", "any");
        await _lb.PutConfigAsync($$$$"""
            {"routes":[
              {"id":"login","enabled":true,"match":{"hosts":["shop.test"],"path":{"type":"exact","value":"/login"}},"upstream_pool":"login"},
              {"id":"api","enabled":true,"match":{"hosts":["shop.test"],"path":{"type":"prefix","value":"/api/"}},"upstream_pool":"api"},
              {"id":"wild","enabled":true,"match":{"hosts":["*.test"]},"upstream_pool":"wild"},
              {"id":"any","enabled":true,"upstream_pool":"any"}],
             "upstream_pools":{"login":{"upstreams":["{{{{backends[0].Address}}}}"]},"api":{"upstreams":["{{{{backends[1].Address}}}}"]},
                               "wild":{"upstreams":["{{{{backends[2].Address}}}}"]},"any":{"upstreams":["{{{{backends[3].Address}}}}"]}}}
            """);
        (string Host, string Path, string Backend)[] cases =
        [
            ("shop.test", "/login", "login"), ("SHOP.test:8080", "/api", "api"), ("shop.test", "/api/cart", "api"),
            ("shop.test", "/apix", "wild"), ("other.test", "/login", "wild"), ("example.org", "/", "any"),
        ];
        foreach (var (host, path, expected) in cases)
        {
            using var response = await GetAsync(host, path);
            Assert.True(expected == BackendOf(response), $"{host}{path} went to {BackendOf(response)}, expected {expected}");
        }
    }

    [Fact]
    public async Task No_matching_route_is_404_with_the_reference_body()
    {
        using var response = await GetAsync("nobody.test", "/");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("no matching route\n", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType!.ToString());
    }

    [Fact]
    public async Task All_targets_unhealthy_gives_503()
    {
        var backends = await BackendsAsync("sick");
        backends[0].HealthStatus = 503;
        await _lb.PutConfigAsync(Configs.SingleRoute("sick.test", "round_robin", [backends[0].Address],
            ""","health_check":{"path":"/health","interval":"200ms","timeout":"100ms","expect_status":200}"""));
        await WaitUntilAsync(async () =>
        {
            using var r = await GetAsync("sick.test", "/");
            return r.StatusCode == HttpStatusCode.ServiceUnavailable;
        });
        using var response = await GetAsync("sick.test", "/");
        Assert.Equal("matched upstream pool has no healthy targets\n", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_refused_connection_is_retried_on_another_target()
    {
        var backends = await BackendsAsync("alive");
        using var dead = new RefusingPort();
        await _lb.PutConfigAsync(Configs.SingleRoute("retry.test", "round_robin", [dead.Address, backends[0].Address]));
        for (var i = 0; i < 6; i++)
        {
            using var response = await GetAsync("retry.test", "/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("alive", BackendOf(response));
        }
    }

    [Fact]
    public async Task A_refused_connection_with_no_other_target_is_502()
    {
        using var dead = new RefusingPort();
        await _lb.PutConfigAsync(Configs.SingleRoute("dead.test", "round_robin", [dead.Address]));
        using var response = await GetAsync("dead.test", "/");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.StartsWith("proxy upstream error: ", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_the_retry_target_refuses_too_the_client_gets_a_502_with_the_error()
    {
        using var dead1 = new RefusingPort();
        using var dead2 = new RefusingPort();
        await _lb.PutConfigAsync(Configs.SingleRoute("alldead.test", "round_robin", [dead1.Address, dead2.Address]));
        using var response = await GetAsync("alldead.test", "/");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.StartsWith("proxy upstream error: ", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_upstream_slower_than_the_response_timeout_gives_504()
    {
        var backends = await BackendsAsync("slow");
        await _lb.PutConfigAsync(Configs.SingleRoute("slow.test", "round_robin", [backends[0].Address], ""","response_timeout":"300ms" """));
        using var response = await GetAsync("slow.test", "/sleep/3000");
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
    }

    [Fact]
    public async Task Forwarding_headers_are_set_and_the_host_is_kept()
    {
        var backends = await BackendsAsync("echo");
        await _lb.PutConfigAsync(Configs.SingleRoute("hdr.test", "round_robin", backends));
        using var response = await GetAsync("hdr.test", "/", r => r.Headers.Add("X-Forwarded-For", "198.51.100.7"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var headers = backends[0].LastHeaders!;
        Assert.Equal("hdr.test", headers.Host.ToString());
        Assert.Equal("198.51.100.7, 127.0.0.1", headers["X-Forwarded-For"].ToString());
        Assert.Equal("http", headers["X-Forwarded-Proto"].ToString());
        Assert.Equal("hdr.test", headers["X-Forwarded-Host"].ToString());
        Assert.Equal("node-1", headers["X-Lb-Node"].ToString());
        Assert.False(headers.ContainsKey("X-AjouLB-LB-Node"));
    }

    [Fact]
    public async Task A_json_access_log_appends_one_object_per_request_to_its_file()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "access.json");
        await using var backend = await TestBackend.StartAsync("logged");
        var lb = await StartLbAsync(proxy: o =>
        {
            o.AccessLog = true;
            o.AccessLogFormat = "json";
            o.AccessLogPath = file;
        });
        await using (lb)
        {
            await lb.PutConfigAsync(Configs.SingleRoute("log.test", "round_robin", backend));
            using var request = new HttpRequestMessage(HttpMethod.Get, "/x?y=1");
            request.Headers.Host = "log.test";
            request.Headers.UserAgent.ParseAdd("lb-test/1");
            using var ok = await lb.Proxy.SendAsync(request, TestContext.Current.CancellationToken);
            using var unrouted = new HttpRequestMessage(HttpMethod.Get, "/");
            unrouted.Headers.Host = "nobody.test";
            using var notFound = await lb.Proxy.SendAsync(unrouted, TestContext.Current.CancellationToken);
        }

        // Disposing the node flushed the log.
        var lines = await File.ReadAllLinesAsync(file, TestContext.Current.CancellationToken);
        Assert.Equal(2, lines.Length);
        using var first = System.Text.Json.JsonDocument.Parse(lines[0]);
        var e = first.RootElement;
        Assert.Equal("GET", e.GetProperty("method").GetString());
        Assert.Equal("log.test", e.GetProperty("host").GetString());
        Assert.Equal("/x", e.GetProperty("path").GetString());
        Assert.Equal("?y=1", e.GetProperty("query").GetString());
        Assert.Equal(200, e.GetProperty("status").GetInt32());
        Assert.Equal("r1", e.GetProperty("route").GetString());
        Assert.Equal(backend.Address, e.GetProperty("target").GetString());
        Assert.Equal("127.0.0.1", e.GetProperty("client").GetString());
        Assert.Equal("lb-test/1", e.GetProperty("user_agent").GetString());
        Assert.True(e.GetProperty("duration_ms").GetDouble() >= 0);
        var upstreamResponse = e.GetProperty("upstream_response_ms").GetDouble();
        var upstreamTotal = e.GetProperty("upstream_ms").GetDouble();
        Assert.InRange(upstreamResponse, 0, upstreamTotal);
        Assert.InRange(upstreamTotal, upstreamResponse, e.GetProperty("duration_ms").GetDouble());
        var connect = e.GetProperty("upstream_connect_ms");
        if (TestedPath != ProxyPath.Yarp)
        {
            Assert.InRange(connect.GetDouble(), 0, upstreamTotal); // the first request opened the connection
        }
        else
        {
            Assert.Equal(System.Text.Json.JsonValueKind.Null, connect.ValueKind); // the forwarder's pool does not say
        }
        Assert.True(e.TryGetProperty("time", out _));
        using var second = System.Text.Json.JsonDocument.Parse(lines[1]);
        Assert.Equal(404, second.RootElement.GetProperty("status").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, second.RootElement.GetProperty("route").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, second.RootElement.GetProperty("upstream_response_ms").ValueKind);
    }

    [Fact]
    public async Task The_node_header_name_is_configurable_for_backends_that_expect_the_reference_name()
    {
        await using var backend = await TestBackend.StartAsync("ref");
        await using var lb = await StartLbAsync(o => o.NodeHeader = "X-AjouLB-LB-Node");
        await lb.PutConfigAsync(Configs.SingleRoute("ref.test", "round_robin", backend));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Host = "ref.test";
        using var response = await lb.Proxy.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("node-1", backend.LastHeaders!["X-AjouLB-LB-Node"].ToString());
        Assert.False(backend.LastHeaders.ContainsKey("X-Lb-Node"));
    }

    [Fact]
    public async Task A_websocket_echoes_through_the_proxy()
    {
        var backends = await BackendsAsync("ws");
        await _lb.PutConfigAsync(Configs.SingleRoute("127.0.0.1", "round_robin", backends));
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_lb.ProxyUri.Port}/ws"), TestContext.Current.CancellationToken);
        var message = Encoding.UTF8.GetBytes("hello through lb");
        await socket.SendAsync(message, WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);
        var buffer = new byte[256];
        var result = await socket.ReceiveAsync(buffer, TestContext.Current.CancellationToken);
        Assert.Equal("hello through lb", Encoding.UTF8.GetString(buffer, 0, result.Count));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task An_idle_websocket_is_closed_after_the_pools_response_timeout_and_a_busy_one_is_not()
    {
        var backends = await BackendsAsync("ws");
        await _lb.PutConfigAsync(Configs.SingleRoute("127.0.0.1", "round_robin", [backends[0].Address], ",\"response_timeout\":\"2s\""));
        using var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero; // no pings: only the test's own messages are traffic
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_lb.ProxyUri.Port}/ws"), TestContext.Current.CancellationToken);
        var buffer = new byte[256];
        // Busy for longer than the timeout: a message every 500 ms keeps the tunnel open.
        for (var i = 0; i < 10; i++)
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes($"m{i}"), WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);
            var echo = await socket.ReceiveAsync(buffer, TestContext.Current.CancellationToken);
            Assert.Equal($"m{i}", Encoding.UTF8.GetString(buffer, 0, echo.Count));
            await Task.Delay(500, TestContext.Current.CancellationToken);
        }
        // Then silence: the proxy closes the tunnel (a generous bound: the point is that it ends, not when).
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        bound.CancelAfter(TimeSpan.FromSeconds(60));
        var ended = false;
        try
        {
            var result = await socket.ReceiveAsync(buffer, bound.Token);
            ended = result.MessageType == WebSocketMessageType.Close;
        }
        catch (WebSocketException)
        {
            ended = true; // closed without a close frame: the connection was dropped
        }
        Assert.True(ended, "the idle tunnel stayed open");
        Assert.False(bound.IsCancellationRequested, "the idle tunnel was still open after 60 s");
    }

    [Fact]
    public async Task A_client_that_stops_reading_its_response_is_disconnected_and_its_upstream_released()
    {
        // A response far larger than every buffer on the way, to a client that reads none of it.
        await using var lb = await StartLbAsync(proxy: o => o.MinResponseDataRate = 100_000);
        var backend = (await BackendsAsync("big"))[0];
        await lb.PutConfigAsync(Configs.SingleRoute("slow.test", "round_robin", backend));
        using var client = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        client.ReceiveBufferSize = 4096;
        await client.ConnectAsync(IPAddress.Loopback, lb.ProxyUri.Port, TestContext.Current.CancellationToken);
        await client.SendAsync(Encoding.ASCII.GetBytes("GET /bytes/4000000000 HTTP/1.1\r\nHost: slow.test\r\n\r\n"), TestContext.Current.CancellationToken);

        async Task<long> ActiveAsync()
        {
            var metrics = await lb.Admin.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
            return metrics.Split('\n').Where(l => l.StartsWith("lb_proxy_active_requests{", StringComparison.Ordinal))
                .Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        }

        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (await ActiveAsync() == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the request never reached the backend");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        // The client still reads nothing; the proxy gives up on it and lets go of the backend.
        while (await ActiveAsync() != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "a client that reads nothing still holds its upstream request after 90 s");
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task A_config_change_keeps_a_healthy_verdict_and_in_flight_requests()
    {
        var backends = await BackendsAsync("a", "b");
        // A generous probe timeout: a slow machine must not take the healthy target out; "b" answers 500 at once.
        var check = ""","health_check":{"path":"/health","interval":"10s","timeout":"5s","expect_status":200}""";
        backends[1].HealthStatus = 500;
        await _lb.PutConfigAsync(Configs.SingleRoute("keep.test", "round_robin", [backends[0].Address, backends[1].Address], check));
        await WaitUntilAsync(async () => (await _lb.GetJsonAsync<System.Text.Json.JsonElement>("/api/status")).GetProperty("runtime").GetProperty("healthy_target_count").GetInt32() == 1);
        var inFlight = GetAsync("keep.test", "/hold");
        await backends[0].WaitForHeldAsync();
        // An unrelated change: the unhealthy target must stay out and the running request must finish.
        await _lb.PutConfigAsync(Configs.SingleRoute("keep.test", "round_robin", [backends[0].Address, backends[1].Address], check).Replace("r1", "r2", StringComparison.Ordinal));
        for (var i = 0; i < 6; i++)
        {
            using var response = await GetAsync("keep.test", "/");
            Assert.Equal("a", BackendOf(response));
        }
        Assert.False(inFlight.IsCompleted);
        backends[0].ReleaseHeld();
        using var finished = await inFlight;
        Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
        Assert.Equal("a", await finished.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Removing_a_pool_closes_its_idle_connections_to_the_backend()
    {
        var backends = await BackendsAsync("old", "new");
        await WaitUntilAsync(() => backends[0].OpenConnections == 0); // the warm-up connection is gone
        await _lb.PutConfigAsync(Configs.SingleRoute("pool.test", "round_robin", [backends[0].Address]));
        using (var response = await GetAsync("pool.test", "/"))
        {
            Assert.Equal("old", BackendOf(response));
        }
        Assert.Equal(1, backends[0].OpenConnections); // kept alive in the pool's connection pool

        await _lb.PutConfigAsync(Configs.SingleRoute("pool.test", "round_robin", [backends[1].Address]).Replace("\"pool\"", "\"other\"", StringComparison.Ordinal));
        await WaitUntilAsync(() => backends[0].OpenConnections == 0);
        using var after = await GetAsync("pool.test", "/");
        Assert.Equal("new", BackendOf(after));
    }

    [Fact]
    public async Task A_removed_pool_keeps_its_connection_for_an_in_flight_request_and_closes_it_after()
    {
        var backends = await BackendsAsync("old", "new");
        await WaitUntilAsync(() => backends[0].OpenConnections == 0);
        await _lb.PutConfigAsync(Configs.SingleRoute("drain.test", "round_robin", [backends[0].Address]));
        var inFlight = GetAsync("drain.test", "/hold");
        await backends[0].WaitForHeldAsync();

        await _lb.PutConfigAsync(Configs.SingleRoute("drain.test", "round_robin", [backends[1].Address]).Replace("\"pool\"", "\"other\"", StringComparison.Ordinal));
        backends[0].ReleaseHeld();
        using (var finished = await inFlight)
        {
            Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
            Assert.Equal("old", await finished.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }
        // The next configuration change sweeps the retired pool, now idle.
        await _lb.PutConfigAsync(Configs.SingleRoute("drain2.test", "round_robin", [backends[1].Address]).Replace("\"pool\"", "\"other\"", StringComparison.Ordinal));
        await WaitUntilAsync(() => backends[0].OpenConnections == 0);
    }

    [Fact]
    public async Task A_request_with_a_body_to_a_refusing_target_is_not_retried()
    {
        var backends = await BackendsAsync("alive");
        using var dead = new RefusingPort();
        await _lb.PutConfigAsync(Configs.SingleRoute("body.test", "round_robin", [dead.Address, backends[0].Address]));
        // Round robin starts at the first target in config order: the refusing one.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/count") { Content = new StringContent("a body that must not be replayed") };
        request.Headers.Host = "body.test";
        using var response = await _lb.Proxy.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.StartsWith("proxy upstream error: ", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(0, backends[0].Requests);
        if (TestedPath != ProxyPath.Yarp)
        {
            // The fast path does not read a body it will not forward, so it closes the connection and must say so:
            // a client reusing it would send its next request into the close and read a reset.
            Assert.True(response.Headers.ConnectionClose);
        }

        // The same request without a body is retried on the live target.
        using var get = await GetAsync("body.test", "/");
        Assert.Equal("alive", BackendOf(get));
    }

    [Fact]
    public async Task A_backend_that_never_accepts_fails_after_the_pool_connect_timeout()
    {
        // A listener with a full accept queue: the kernel drops further SYNs, so a connect neither succeeds nor is refused.
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        using var filler = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await filler.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), TestContext.Current.CancellationToken);

        await _lb.PutConfigAsync(Configs.SingleRoute("connect.test", "round_robin", [$"127.0.0.1:{port}"], ""","connect_timeout":"1s","response_timeout":"2m" """));
        var started = DateTime.UtcNow;
        using var response = await GetAsync("connect.test", "/");
        var took = DateTime.UtcNow - started;

        Assert.True(response.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout, $"answered {(int)response.StatusCode}");
        // Generous: far above the 1 s connect timeout, far below the 2 min response timeout and the kernel's SYN retries.
        Assert.True(took < TimeSpan.FromSeconds(45), $"took {took}: the connect timeout was not applied");
    }

    [Fact]
    public async Task Forwarding_headers_a_client_sends_are_replaced_not_passed_on()
    {
        var backends = await BackendsAsync("echo");
        await _lb.PutConfigAsync(Configs.SingleRoute("spoof.test", "round_robin", backends));
        using var response = await GetAsync("spoof.test", "/", r =>
        {
            r.Headers.Add("X-Forwarded-Proto", "https");
            r.Headers.Add("X-Forwarded-Host", "evil.test");
            r.Headers.Add("X-Lb-Node", "spoofed");
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var headers = backends[0].LastHeaders!;
        // One value each: a second, client-chosen value beside ours would let a backend pick the wrong one.
        Assert.Equal("http", headers["X-Forwarded-Proto"].ToString());
        Assert.Equal("spoof.test", headers["X-Forwarded-Host"].ToString());
        Assert.Equal("node-1", headers["X-Lb-Node"].ToString());
        Assert.Equal("127.0.0.1", headers["X-Forwarded-For"].ToString());
    }

    [Fact]
    public async Task Proxied_requests_are_counted_in_the_metrics_by_route_and_status_class()
    {
        var backends = await BackendsAsync("m");
        using var dead = new RefusingPort();
        await _lb.PutConfigAsync("{\"routes\":["
            + "{\"id\":\"up\",\"enabled\":true,\"match\":{\"hosts\":[\"up.test\"]},\"upstream_pool\":\"live\"},"
            + "{\"id\":\"down\",\"enabled\":true,\"match\":{\"hosts\":[\"down.test\"]},\"upstream_pool\":\"dead\"}],"
            + "\"upstream_pools\":{\"live\":{\"upstreams\":[\"" + backends[0].Address + "\"]},\"dead\":{\"upstreams\":[\"" + dead.Address + "\"]}}}");
        foreach (var (host, status) in new[] { ("up.test", 200), ("up.test", 200), ("down.test", 502), ("nobody.test", 404) })
        {
            using var response = await GetAsync(host, "/api/info");
            Assert.Equal(status, (int)response.StatusCode);
        }
        var lines = (await _lb.Admin.GetStringAsync("/metrics", TestContext.Current.CancellationToken)).Split('\n');
        Assert.Equal(
            ["lb_proxy_requests_total{route=\"(none)\",status_class=\"4xx\"} 1", "lb_proxy_requests_total{route=\"down\",status_class=\"5xx\"} 1", "lb_proxy_requests_total{route=\"up\",status_class=\"2xx\"} 2"],
            lines.Where(l => l.StartsWith("lb_proxy_requests_total{", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        // No request is left counted as active once all have answered.
        Assert.All(lines.Where(l => l.StartsWith("lb_proxy_active_requests{", StringComparison.Ordinal)), l => Assert.EndsWith(" 0", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Config_changes_under_load_lose_no_request()
    {
        var backends = await BackendsAsync("a", "b");
        string Config(int i) => Configs.SingleRoute("load.test", "round_robin", i % 2 == 0 ? [backends[0].Address, backends[1].Address] : [backends[1].Address])
            .Replace("\"pool\"", $"\"pool{i % 3}\"", StringComparison.Ordinal); // a new pool each time: the old one retires under traffic
        await _lb.PutConfigAsync(Config(0));
        using var stop = new CancellationTokenSource();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var served = 0;
        var load = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await GetAsync("load.test", "/sleep/5");
                var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
                if (response.StatusCode != HttpStatusCode.OK || body is not ("a" or "b"))
                {
                    failures.Enqueue($"{(int)response.StatusCode} {body}");
                }
                Interlocked.Increment(ref served);
            }
        }, TestContext.Current.CancellationToken)).ToArray();
        for (var i = 1; i <= 12; i++)
        {
            await _lb.PutConfigAsync(Config(i));
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        await stop.CancelAsync();
        await Task.WhenAll(load);
        Assert.Empty(failures);
        Assert.True(served >= 24, $"only {served} requests ran during the changes");
    }

    internal static async Task WaitUntilAsync(Func<bool> condition) => await WaitUntilAsync(() => Task.FromResult(condition()));

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached within 20 s");
            await Task.Delay(50);
        }
    }
}

public sealed class ProxyTestsOnYarpPath() : ProxyTests(ProxyPath.Yarp);

public sealed class ProxyTestsOnFastPath() : ProxyTests(ProxyPath.Fast);

public sealed class ProxyTestsOnLoopPath() : ProxyTests(ProxyPath.Loop);

/// <summary>A node that trusts no proxy: forwarding headers its clients send must not change whom the balancer sees.</summary>
public abstract class UntrustedPeerTests(ProxyPath path) : ProxyPathTests(path), IAsyncLifetime
{
    private LbServer _lb = null!;
    private readonly List<TestBackend> _backends = [];

    public async ValueTask InitializeAsync()
    {
        _lb = await StartLbAsync(proxy: o => o.TrustedProxies = []);
        foreach (var name in new[] { "a", "b", "c" })
        {
            _backends.Add(await TestBackend.StartAsync(name));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _lb.DisposeAsync();
        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }
    }

    [Fact]
    public async Task Forwarding_headers_from_an_untrusted_peer_do_not_move_the_client()
    {
        await _lb.PutConfigAsync(Configs.SingleRoute("untrusted.test", "5_tuple_hash", [.. _backends]));
        var chosen = new HashSet<string>();
        for (var i = 1; i <= 12; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Host = "untrusted.test";
            request.Headers.Add("X-Forwarded-For", $"203.0.113.{i}");
            request.Headers.Add("Forwarded", $"for=198.51.100.{i}");
            using var response = await _lb.Proxy.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            chosen.Add(response.Headers.GetValues("X-Backend").Single());
        }
        // Twelve distinct claimed clients would spread over three backends if the headers were believed.
        Assert.Single(chosen);
    }
}

public sealed class UntrustedPeerTestsOnYarpPath() : UntrustedPeerTests(ProxyPath.Yarp);

public sealed class UntrustedPeerTestsOnFastPath() : UntrustedPeerTests(ProxyPath.Fast);

public sealed class UntrustedPeerTestsOnLoopPath() : UntrustedPeerTests(ProxyPath.Loop);
