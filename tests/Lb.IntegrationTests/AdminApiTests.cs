using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

public sealed partial class AdminApiTests : IAsyncLifetime
{
    private LbServer _lb = null!;

    public async ValueTask InitializeAsync() => _lb = await LbServer.StartAsync();

    public async ValueTask DisposeAsync() => await _lb.DisposeAsync();

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private const string ValidConfig = """
        {"routes":[{"id":"shop","enabled":true,"algorithm":"least_connection","match":{"hosts":["shop.test"],"path":{"type":"prefix","value":"/api/"}},"upstream_pool":"web"}],
         "upstream_pools":{"web":{"upstreams":["127.0.0.1:1","127.0.0.1:2"],"health_check":{"path":"/health","interval":"30s","timeout":"3s","expect_status":200}}}}
        """;

    /// <summary>Replaces values that change between runs (times, versions' hashes, ports) so shapes can be compared.</summary>
    private static string Stable(string json)
    {
        using var document = JsonDocument.Parse(json);
        var pretty = JsonSerializer.Serialize(document.RootElement, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        pretty = TimestampPattern().Replace(pretty, "\"<time>\"");
        return HashPattern().Replace(pretty, "\"<sha256>\"");
    }

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string path, HttpContent? content = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        configure?.Invoke(request);
        using var response = await _lb.Admin.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Response_shapes_match_the_golden_files()
    {
        var (putStatus, putBody) = await SendAsync(HttpMethod.Put, "/api/config", Json(ValidConfig));
        Assert.Equal(HttpStatusCode.OK, putStatus);
        Golden.AssertMatches("put-config", Stable(putBody));
        // Both targets refuse connections; wait for their first probe so the runtime view is deterministic.
        await ProxyTests.WaitUntilAsync(async () => (await SendAsync(HttpMethod.Get, "/api/runtime")).Body.Split("last_checked_at").Length == 3);
        Golden.AssertMatches("get-config", Stable((await SendAsync(HttpMethod.Get, "/api/config")).Body));
        // The status names the addresses really bound (the boot file asked for port 0).
        var status = (await SendAsync(HttpMethod.Get, "/api/status")).Body
            .Replace(_lb.Proxy.BaseAddress!.Authority, "<proxy>", StringComparison.Ordinal)
            .Replace(_lb.Admin.BaseAddress!.Authority, "<admin>", StringComparison.Ordinal);
        Golden.AssertMatches("status", Stable(status));
        Golden.AssertMatches("runtime", Stable((await SendAsync(HttpMethod.Get, "/api/runtime")).Body));
        Golden.AssertMatches("cluster", Stable((await SendAsync(HttpMethod.Get, "/api/cluster")).Body));
        Golden.AssertMatches("explain", Stable((await SendAsync(HttpMethod.Get, "/api/explain?host=SHOP.test:8080&path=/api/cart")).Body));
        var nodeStatus = (await SendAsync(HttpMethod.Get, "/api/node/cluster-status")).Body;
        Assert.DoesNotContain("can_bootstrap", nodeStatus, StringComparison.Ordinal);
        Golden.AssertMatches("node-cluster-status", Stable(nodeStatus.Replace(_lb.Services.GetDataDir(), "<data-dir>", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Every_validation_error_comes_back_with_its_field_path_code_and_hint()
    {
        var bad = """
            {"routes":[{"id":"a","enabled":true,"algorithm":"least_conn","match":{"hosts":["x.test:80"],"path":{"type":"prefix","value":"/api"}},"upstream_pool":"nope"}],
             "upstream_pools":{"web":{"upstreams":["host:abc"],"health_check":{"path":"/h","interval":"0s","timeout":"1s","expect_status":200}}}}
            """;
        var (status, body) = await SendAsync(HttpMethod.Put, "/api/config", Json(bad));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Golden.AssertMatches("validation-failed", Stable(body));
        var (getStatus, getBody) = await SendAsync(HttpMethod.Get, "/api/config");
        Assert.Equal(HttpStatusCode.OK, getStatus);
        Assert.Contains("\"routes\":[]", getBody, StringComparison.Ordinal); // nothing was half-applied
    }

    [Fact]
    public async Task Malformed_json_names_the_field()
    {
        var (status, body) = await SendAsync(HttpMethod.Put, "/api/config", Json("""{"routes":[{"id":"a","enabld":true}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Golden.AssertMatches("invalid-json", Stable(body));
    }

    [Fact]
    public async Task Dry_run_validation_returns_all_errors_and_changes_nothing()
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "/api/config/validate", Json("""{"routes":[{"id":"","upstream_pool":"x"}]}"""));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains("routes[0].id", body, StringComparison.Ordinal);
        Assert.Contains("routes[0].upstream_pool", body, StringComparison.Ordinal);
        var (okStatus, okBody) = await SendAsync(HttpMethod.Post, "/api/config/validate", Json(ValidConfig));
        Assert.Equal(HttpStatusCode.OK, okStatus);
        Assert.Contains("\"valid\":true", okBody, StringComparison.Ordinal);
        Assert.Contains("\"version\":0", (await SendAsync(HttpMethod.Get, "/api/config")).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stale_if_match_is_412_and_a_stale_body_version_is_409()
    {
        await _lb.PutConfigAsync(ValidConfig);
        var (_, current) = await SendAsync(HttpMethod.Get, "/api/config");
        Assert.Contains("\"version\":1", current, StringComparison.Ordinal);

        var (ifMatchStatus, ifMatchBody) = await SendAsync(HttpMethod.Put, "/api/config", Json(ValidConfig), r => r.Headers.TryAddWithoutValidation("If-Match", "\"0\""));
        Assert.Equal(HttpStatusCode.PreconditionFailed, ifMatchStatus);
        Assert.Contains("version_conflict", ifMatchBody, StringComparison.Ordinal);

        // A GET body can be PUT back verbatim; its version makes the write conditional.
        var (verbatimStatus, _) = await SendAsync(HttpMethod.Put, "/api/config", Json(current));
        Assert.Equal(HttpStatusCode.OK, verbatimStatus);
        var (staleStatus, staleBody) = await SendAsync(HttpMethod.Put, "/api/config", Json(current));
        Assert.Equal(HttpStatusCode.Conflict, staleStatus);
        Assert.Contains("version_conflict", staleBody, StringComparison.Ordinal);

        var (okStatus, _) = await SendAsync(HttpMethod.Put, "/api/config", Json(ValidConfig), r => r.Headers.TryAddWithoutValidation("If-Match", "\"2\""));
        Assert.Equal(HttpStatusCode.OK, okStatus);
    }

    [Fact]
    public async Task Garbage_bodies_get_4xx_and_the_node_keeps_serving()
    {
        var garbage = new byte[1024 * 1024];
        new Random(7).NextBytes(garbage);
        var (status, _) = await SendAsync(HttpMethod.Put, "/api/config", new ByteArrayContent(garbage) { Headers = { ContentType = new("application/json") } });
        Assert.Equal(HttpStatusCode.BadRequest, status);

        var huge = new byte[17 * 1024 * 1024];
        var (tooLarge, tooLargeBody) = await SendAsync(HttpMethod.Put, "/api/config", new ByteArrayContent(huge) { Headers = { ContentType = new("application/json") } });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge);
        Assert.Contains("payload_too_large", tooLargeBody, StringComparison.Ordinal);

        var (wrongType, wrongTypeBody) = await SendAsync(HttpMethod.Put, "/api/config", new StringContent(ValidConfig, Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType);
        Assert.Contains("Content-Type", wrongTypeBody, StringComparison.Ordinal);

        await _lb.PutConfigAsync(ValidConfig);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/api/status")).Status);
    }

    [Fact]
    public async Task Unknown_paths_legacy_paths_and_wrong_methods_answer_like_the_reference()
    {
        var (unknown, unknownBody) = await SendAsync(HttpMethod.Get, "/api/nope");
        Assert.Equal(HttpStatusCode.NotFound, unknown);
        Assert.Equal("404 page not found\n", unknownBody);
        foreach (var legacy in new[] { "/api/namespaces", "/api/upstreams", "/api/raft/join", "/api/namespaces/default/routes/x", "/api/config/" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, legacy)).Status);
        }
        var (wrongMethod, wrongBody) = await SendAsync(HttpMethod.Post, "/api/config", Json("{}"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod);
        Assert.Equal("{\"message\":\"method not allowed\"}\n", wrongBody);
        var (page, pageBody) = await SendAsync(HttpMethod.Get, "/routes");
        Assert.Equal(HttpStatusCode.OK, page);
        Assert.Contains("<html", pageBody, StringComparison.Ordinal);
    }

    private const string EmptyConfig = """{"routes":[],"upstream_pools":{}}""";

    private async Task<HttpResponseMessage> PutAsync(string body, string? ifMatch = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/config") { Content = Json(body) };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }
        return await _lb.Admin.SendAsync(request, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Every_config_response_carries_the_version_as_its_ETag()
    {
        using (var initial = await _lb.Admin.GetAsync("/api/config", TestContext.Current.CancellationToken))
        {
            Assert.Equal("\"0\"", initial.Headers.ETag!.ToString());
        }
        using (var put = await PutAsync(ValidConfig))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            Assert.Equal("\"1\"", put.Headers.ETag!.ToString());
        }
        using (var get = await _lb.Admin.GetAsync("/api/config", TestContext.Current.CancellationToken))
        {
            Assert.Equal("\"1\"", get.Headers.ETag!.ToString());
        }
        using (var stale = await PutAsync(ValidConfig, "\"0\""))
        {
            Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
            Assert.Equal("\"1\"", stale.Headers.ETag!.ToString());
        }
        using (var staleBody = await PutAsync("""{"version":0,"routes":[],"upstream_pools":{}}"""))
        {
            Assert.Equal(HttpStatusCode.Conflict, staleBody.StatusCode);
            Assert.Equal("\"1\"", staleBody.Headers.ETag!.ToString());
        }
    }

    [Fact]
    public async Task If_match_accepts_a_star_and_weak_etags_and_rejects_unparsable_values()
    {
        using (var star = await PutAsync(EmptyConfig, "*"))
        {
            Assert.Equal(HttpStatusCode.OK, star.StatusCode);
            Assert.Equal("\"1\"", star.Headers.ETag!.ToString());
        }
        using (var weak = await PutAsync(EmptyConfig, "W/\"1\""))
        {
            Assert.Equal(HttpStatusCode.OK, weak.StatusCode);
            Assert.Equal("\"2\"", weak.Headers.ETag!.ToString());
        }
        using (var staleWeak = await PutAsync(EmptyConfig, "W/\"1\""))
        {
            Assert.Equal(HttpStatusCode.PreconditionFailed, staleWeak.StatusCode);
        }
        foreach (var bad in new[] { "\"abc\"", "\"-1\"", "\"1.5\"" })
        {
            using var response = await PutAsync(EmptyConfig, bad);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"If-Match {bad} answered {(int)response.StatusCode}");
            Assert.Contains("If-Match must be the ETag", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        }
        Assert.Contains("\"version\":2", await _lb.Admin.GetStringAsync("/api/config", TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Head_is_a_read_with_the_headers_of_get_and_no_body()
    {
        await _lb.PutConfigAsync(ValidConfig);
        using var request = new HttpRequestMessage(HttpMethod.Head, "/api/config");
        using var response = await _lb.Admin.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"1\"", response.Headers.ETag!.ToString());
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_chunked_body_larger_than_the_limit_is_413_and_nothing_is_applied()
    {
        var limit = Lb.Core.Validation.DesiredStateLimits.Default.MaxDocumentBytes;
        var body = new byte[limit + 1];
        body.AsSpan().Fill((byte)' ');
        using var content = new StreamContent(new MemoryStream(body)); // no Content-Length: sent chunked
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/config") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await _lb.Admin.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("payload_too_large", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Contains("\"version\":0", await _lb.Admin.GetStringAsync("/api/config", TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_without_a_host_is_400_naming_the_parameter()
    {
        var (status, body) = await SendAsync(HttpMethod.Get, "/api/explain?path=/x");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        using var document = JsonDocument.Parse(body);
        Assert.Equal("host", document.RootElement.GetProperty("errors")[0].GetProperty("field").GetString());
    }

    [Fact]
    public async Task Cluster_lifecycle_requests_without_their_required_fields_are_400_invalid_request()
    {
        var expected = new Dictionary<string, string>
        {
            ["/api/cluster/bootstrap"] = "node_id and raft_advertise_addr are required",
            ["/api/node/join-cluster"] = "node_id, raft_advertise_addr, and peers are required",
            ["/api/cluster/join"] = "node_id and raft_address are required",
        };
        foreach (var (path, message) in expected)
        {
            var (status, body) = await SendAsync(HttpMethod.Post, path, Json("{}"));
            Assert.True(status == HttpStatusCode.BadRequest, $"{path} answered {(int)status}");
            Assert.Contains("\"code\":\"invalid_request\"", body, StringComparison.Ordinal);
            Assert.Contains(message, body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Too_many_pools_or_hosts_per_route_is_422_with_the_field_path()
    {
        var limits = Lb.Core.Validation.DesiredStateLimits.Default;
        var pools = string.Join(",", Enumerable.Range(0, limits.MaxPools + 1).Select(i => $"\"p{i}\":{{\"upstreams\":[\"127.0.0.1:9\"]}}"));
        var (poolStatus, poolBody) = await SendAsync(HttpMethod.Put, "/api/config", Json($"{{\"routes\":[],\"upstream_pools\":{{{pools}}}}}"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, poolStatus);
        Assert.Contains("\"field\":\"upstream_pools\"", poolBody, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"too_many\"", poolBody, StringComparison.Ordinal);

        var hosts = string.Join(",", Enumerable.Range(0, limits.MaxHostsPerRoute + 1).Select(i => $"\"h{i}.test\""));
        var (hostStatus, hostBody) = await SendAsync(HttpMethod.Put, "/api/config", Json(
            $$$$"""{"routes":[{"id":"r","enabled":true,"match":{"hosts":[{{{{hosts}}}}]},"upstream_pool":"p"}],"upstream_pools":{"p":{"upstreams":["127.0.0.1:9"]}}}"""));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, hostStatus);
        Assert.Contains("\"field\":\"routes[0].match.hosts\"", hostBody, StringComparison.Ordinal);
        Assert.Contains("\"version\":0", await _lb.Admin.GetStringAsync("/api/config", TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_count_exactly_this_servers_requests_even_with_another_server_in_the_process()
    {
        await using var other = await LbServer.StartAsync();
        await _lb.PutConfigAsync(ValidConfig);
        for (var i = 0; i < 3; i++)
        {
            await ProxyGetAsync(_lb, "nobody.test");
        }
        for (var i = 0; i < 5; i++)
        {
            await ProxyGetAsync(other, "nobody.test");
        }

        var (status, body) = await SendAsync(HttpMethod.Get, "/metrics");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("# TYPE lb_proxy_requests_total counter", body, StringComparison.Ordinal);
        Assert.Equal(["lb_proxy_requests_total{route=\"(none)\",status_class=\"4xx\"} 3"], Samples(body, "lb_proxy_requests_total"));
        Assert.Equal(["lb_proxy_request_duration_seconds_count{route=\"(none)\"} 3"], Samples(body, "lb_proxy_request_duration_seconds_count"));
        // This server's pool has two targets, the other server has none: only ours are sampled.
        Assert.Equal(2, Samples(body, "lb_proxy_active_requests{").Length);

        using var otherMetrics = await other.Admin.GetAsync("/metrics", TestContext.Current.CancellationToken);
        var otherBody = await otherMetrics.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal(["lb_proxy_requests_total{route=\"(none)\",status_class=\"4xx\"} 5"], Samples(otherBody, "lb_proxy_requests_total"));
        Assert.Empty(Samples(otherBody, "lb_proxy_active_requests{"));
    }

    [Fact]
    public async Task Metrics_show_targets_up_and_down_the_config_version_apply_time_and_runtime_series_and_drop_removed_targets()
    {
        await using var backend = await TestBackend.StartAsync("up");
        const string check = ",\"health_check\":{\"path\":\"/health\",\"interval\":\"1s\",\"timeout\":\"500ms\",\"expect_status\":200}";
        await _lb.PutConfigAsync(Configs.SingleRoute("m.test", "round_robin", [backend.Address, "127.0.0.1:9"], check));

        // Nothing listens on port 9: its first failed probe takes it down.
        string body;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            body = (await SendAsync(HttpMethod.Get, "/metrics")).Body;
        }
        while (!body.Contains("lb_upstream_up{pool=\"pool\",target=\"127.0.0.1:9\"} 0", StringComparison.Ordinal) && DateTime.UtcNow < deadline);
        Assert.Contains("lb_upstream_up{pool=\"pool\",target=\"127.0.0.1:9\"} 0", body, StringComparison.Ordinal);
        Assert.Contains($"lb_upstream_up{{pool=\"pool\",target=\"{backend.Address}\"}} 1", body, StringComparison.Ordinal);
        Assert.Equal(["lb_config_version 1"], Samples(body, "lb_config_version"));
        var applied = double.Parse(Samples(body, "lb_config_last_apply_timestamp_seconds").Single().Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(applied, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds());
        Assert.Contains("# TYPE dotnet_gc_collections_total counter", body, StringComparison.Ordinal);
        Assert.Contains("\ndotnet_process_", body, StringComparison.Ordinal);

        await _lb.PutConfigAsync(Configs.SingleRoute("m.test", "round_robin", [backend.Address], check));
        body = (await SendAsync(HttpMethod.Get, "/metrics")).Body;
        // Gauges sample the current snapshot, so the removed target's up/down series is gone (its health-transition
        // counter keeps its total).
        Assert.DoesNotContain("lb_upstream_up{pool=\"pool\",target=\"127.0.0.1:9\"}", body, StringComparison.Ordinal);
        Assert.Equal(["lb_config_version 2"], Samples(body, "lb_config_version"));
    }

    [Fact]
    public async Task Metrics_count_each_targets_responses_by_status_class_with_latency_and_forget_a_removed_target()
    {
        await using var ok = await TestBackend.StartAsync("ok");
        await using var failing = await TestBackend.StartAsync("failing");
        await _lb.PutConfigAsync(Configs.SingleRoute("t.test", "round_robin", [ok.Address, failing.Address]));

        // Round robin alternates: two requests to each target; the failing one answers 503 through /status/503.
        for (var i = 0; i < 4; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/status/503");
            request.Headers.Host = "t.test";
            using var response = await _lb.Proxy.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }
        var body = (await SendAsync(HttpMethod.Get, "/metrics")).Body;
        Assert.Equal(
            new[] { $"lb_upstream_responses_total{{pool=\"pool\",target=\"{failing.Address}\",status_class=\"5xx\"}} 2",
             $"lb_upstream_responses_total{{pool=\"pool\",target=\"{ok.Address}\",status_class=\"5xx\"}} 2" }.Order(StringComparer.Ordinal),
            Samples(body, "lb_upstream_responses_total").Order(StringComparer.Ordinal));
        Assert.Equal(2, Samples(body, "lb_upstream_response_duration_seconds_count{").Length);
        Assert.All(Samples(body, "lb_upstream_response_duration_seconds_count{"), line => Assert.EndsWith(" 2", line, StringComparison.Ordinal));

        // Without the failing target in the config, none of its series is exported any more.
        await _lb.PutConfigAsync(Configs.SingleRoute("t.test", "round_robin", [ok.Address]));
        body = (await SendAsync(HttpMethod.Get, "/metrics")).Body;
        Assert.DoesNotContain(failing.Address, body, StringComparison.Ordinal);
        Assert.Single(Samples(body, "lb_upstream_responses_total"));
    }

    private static async Task ProxyGetAsync(LbServer server, string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Host = host;
        using var response = await server.Proxy.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private static string[] Samples(string metrics, string prefix) =>
        [.. metrics.Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal))];

    [GeneratedRegex("\"\\d{4}-\\d{2}-\\d{2}T[^\"]+Z\"")]
    private static partial Regex TimestampPattern();

    [GeneratedRegex("\"[0-9a-f]{64}\"")]
    private static partial Regex HashPattern();
}

public sealed class AdminTokenTests : IAsyncLifetime
{
    private const string Token = "0123456789abcdef-test-token";
    private LbServer _lb = null!;

    public async ValueTask InitializeAsync() => _lb = await LbServer.StartAsync(admin: o => o.AdminToken = Token);

    public async ValueTask DisposeAsync() => await _lb.DisposeAsync();

    [Fact]
    public async Task Writes_need_the_token_and_reads_stay_open_by_default()
    {
        var content = new StringContent("""{"routes":[],"upstream_pools":{}}""", Encoding.UTF8, "application/json");
        using var anonymous = await _lb.Admin.PutAsync("/api/config", content, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("unauthorized", await anonymous.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);

        using var wrong = new HttpRequestMessage(HttpMethod.Put, "/api/config") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        wrong.Headers.Authorization = new("Bearer", "not-the-token-at-all");
        Assert.Equal(HttpStatusCode.Unauthorized, (await _lb.Admin.SendAsync(wrong, TestContext.Current.CancellationToken)).StatusCode);

        using var right = new HttpRequestMessage(HttpMethod.Put, "/api/config") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        right.Headers.Authorization = new("Bearer", Token);
        Assert.Equal(HttpStatusCode.OK, (await _lb.Admin.SendAsync(right, TestContext.Current.CancellationToken)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await _lb.Admin.GetAsync("/api/status", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task A_401_names_the_bearer_scheme_in_www_authenticate()
    {
        using var anonymous = await _lb.Admin.PutAsync("/api/config", new StringContent("{}", Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Bearer", Assert.Single(anonymous.Headers.WwwAuthenticate).Scheme);
    }
}

public sealed class AdminReadTokenTests : IAsyncLifetime
{
    private const string Token = "read-token-0123456789abcdef";
    private LbServer _lb = null!;

    public async ValueTask InitializeAsync() => _lb = await LbServer.StartAsync(admin: o =>
    {
        o.AdminToken = Token;
        o.AdminReadRequiresToken = true;
    });

    public async ValueTask DisposeAsync() => await _lb.DisposeAsync();

    [Fact]
    public async Task With_admin_read_requires_token_every_read_needs_the_token()
    {
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Head })
        {
            foreach (var path in new[] { "/api/config", "/api/status", "/api/runtime", "/metrics" })
            {
                using var anonymous = new HttpRequestMessage(method, path);
                using var refused = await _lb.Admin.SendAsync(anonymous, TestContext.Current.CancellationToken);
                Assert.True(refused.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} without a token answered {(int)refused.StatusCode}");
                Assert.Equal("Bearer", Assert.Single(refused.Headers.WwwAuthenticate).Scheme);

                using var authorized = new HttpRequestMessage(method, path);
                authorized.Headers.Authorization = new("Bearer", Token);
                using var allowed = await _lb.Admin.SendAsync(authorized, TestContext.Current.CancellationToken);
                Assert.True(allowed.StatusCode == HttpStatusCode.OK, $"{method} {path} with the token answered {(int)allowed.StatusCode}");
            }
        }
    }
}
