using System.Net;
using System.Text;
using System.Text.Json;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>Regressions from the hostile-client and careless-operator probe recorded in docs/reliability.md.</summary>
public sealed class HardeningTests : IAsyncLifetime
{
    private LbServer _lb = null!;

    public async ValueTask InitializeAsync() => _lb = await LbServer.StartAsync();

    public async ValueTask DisposeAsync() => await _lb.DisposeAsync();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(HttpStatusCode Status, string Body)> PutAsync(string json)
    {
        using var response = await _lb.Admin.PutAsync("/api/config", new StringContent(json, Encoding.UTF8, "application/json"), Ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    [Theory]
    [InlineData("//{0}/x")]
    [InlineData("/\\{0}/x")]
    [InlineData("/health x")]
    [InlineData("/health#frag")]
    public async Task A_health_check_path_that_could_leave_the_target_is_rejected_and_the_canary_hears_nothing(string pathFormat)
    {
        await using var target = await TestBackend.StartAsync("target");
        await using var canary = await TestBackend.StartAsync("canary");
        var path = JsonSerializer.Serialize(string.Format(System.Globalization.CultureInfo.InvariantCulture, pathFormat, canary.Address));
        var (status, body) = await PutAsync(Configs.SingleRoute("ssrf.test", "round_robin", [target.Address],
            $$""","health_check":{"path":{{path}},"interval":"200ms","timeout":"100ms","expect_status":200}"""));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains("\"field\":\"upstream_pools.pool.health_check.path\"", body, StringComparison.Ordinal);
        await Task.Delay(500, Ct); // several probe intervals, had the config been applied
        Assert.Equal(0, canary.Requests);
    }

    [Theory]
    [InlineData("^/a{1001}", "invalid repeat count")]
    [InlineData("^/(a{1000}){1000}", "invalid repeat count")]
    public async Task Regex_repeat_counts_over_1000_are_rejected_with_422(string regex, string message)
    {
        var (status, body) = await PutAsync("""{"routes":[{"id":"r","enabled":true,"match":{"path":{"type":"regex","value":"""
            + JsonSerializer.Serialize(regex) + """}},"upstream_pool":"p"}],"upstream_pools":{"p":{"upstreams":["127.0.0.1:1"]}}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains("routes[0].match.path.value", body, StringComparison.Ordinal);
        Assert.Contains(message, body, StringComparison.Ordinal);
        Assert.DoesNotContain("look-around", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_out_of_range_version_is_named_as_a_number_problem()
    {
        var (status, body) = await PutAsync("""{"version":1e30,"routes":[],"upstream_pools":{}}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("\"field\":\"version\"", body, StringComparison.Ordinal);
        Assert.Contains("expected a whole number", body, StringComparison.Ordinal);
        Assert.DoesNotContain("an object", body, StringComparison.Ordinal);
    }
}

/// <summary>The proxy-side regressions of the same probe; run against both paths by the two classes after it.</summary>
public abstract class ProxyHardeningTests(ProxyPath path) : ProxyPathTests(path), IAsyncLifetime
{
    private LbServer _lb = null!;

    public async ValueTask InitializeAsync() => _lb = await StartLbAsync();

    public async ValueTask DisposeAsync() => await _lb.DisposeAsync();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Headers_named_in_Connection_are_dropped_in_both_directions()
    {
        await using var backend = await RawBackend.StartAsync(
            "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Internal-Secret\r\nX-Internal-Secret: 1\r\nX-Public: yes\r\nContent-Length: 2\r\n\r\nok");
        await _lb.PutConfigAsync(Configs.SingleRoute("hop.test", "round_robin", [backend.Address]));

        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Host = "hop.test";
        // Kestrel keeps only keep-alive/close/upgrade when one of them is listed, so the list is sent on its own here
        // (docs/reliability.md, "Connection-listed headers").
        request.Headers.Connection.Add("X-Secret");
        request.Headers.Add("X-Secret", "1");
        request.Headers.Add("X-Kept", "1");
        using var response = await _lb.Proxy.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Internal-Secret"));
        Assert.Equal("yes", Assert.Single(response.Headers.GetValues("X-Public")));
        var head = await backend.RequestHead;
        Assert.DoesNotContain("x-secret:", head, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("x-kept: 1", head, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_a_spoofed_leftmost_x_forwarded_for_does_not_move_the_client()
    {
        var backends = new List<TestBackend>();
        for (var i = 0; i < 4; i++)
        {
            backends.Add(await TestBackend.StartAsync($"b{i}"));
        }
        try
        {
            // The test client plays the trusted proxy (127.0.0.1) that appended the real client, 198.51.100.7.
            await using var lb = await StartLbAsync(proxy: o => o.TrustedProxies = ["127.0.0.1"]);
            await lb.PutConfigAsync(Configs.SingleRoute("xff.test", "5_tuple_hash", [.. backends]));
            var seen = new HashSet<string>();
            for (var i = 0; i < 20; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/");
                request.Headers.Host = "xff.test";
                request.Headers.TryAddWithoutValidation("X-Forwarded-For", $"203.0.113.{i + 1}, 198.51.100.7");
                using var response = await lb.Proxy.SendAsync(request, Ct);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                seen.Add(response.Headers.GetValues("X-Backend").Single());
            }
            Assert.Single(seen);
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
    public async Task A_killed_and_restarted_backend_gets_traffic_again_within_a_few_check_intervals_despite_a_long_ejection()
    {
        await using var steady = await TestBackend.StartAsync("steady");
        var flaky = await TestBackend.StartAsync("flaky");
        var port = flaky.Port;
        RefusingPort? hold = null;
        try
        {
            await _lb.PutConfigAsync(Configs.SingleRoute("recover.test", "round_robin", [steady.Address, flaky.Address],
                ""","health_check":{"path":"/health","interval":"300ms","timeout":"250ms","expect_status":200,"fall":20},"passive_health":{"consecutive_failures":2,"ejection_time":"5m"}"""));
            // fall 20: the checks must not take the killed target out before live traffic ejects it (no request would
            // reach it then); they still record a failed probe at once, which makes the later passes a recovery.
            // A probe has passed (not merely "routable before its first check"): a first probe that ran only after the
            // kill would be a first verdict, which counts at once, and live traffic would never reach the dead target.
            await ProxyTests.WaitUntilAsync(async () =>
            {
                var target = await TargetAsync(flaky.Address);
                return target.GetProperty("healthy").GetBoolean() && target.TryGetProperty("last_checked_at", out _);
            });

            await flaky.DisposeAsync(); // killed: live traffic is refused until passive health ejects it for 5 minutes
            // Its port stays held (refusing) so that no other test's backend is given it while it is "dead".
            hold = new RefusingPort(port);
            var ejectBy = DateTime.UtcNow.AddSeconds(40); // generous for a loaded machine
            while (true)
            {
                using var response = await GetAsync("recover.test");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode); // refused attempts are retried on the steady target
                var target = await TargetAsync(flaky.Address);
                // Ejected by live traffic, and an active probe has failed too: recovery is what checks see after a failure.
                if (target.TryGetProperty("ejected_until", out _) && target.TryGetProperty("last_error", out _))
                {
                    break;
                }
                Assert.True(DateTime.UtcNow < ejectBy, "the killed backend was not ejected with a failed probe: " + target);
                await Task.Delay(50, Ct);
            }

            hold.Dispose();
            flaky = await TestBackend.StartAsync("flaky", port);
            var deadline = DateTime.UtcNow.AddSeconds(40); // generous for a loaded machine; the 5-minute ejection runs far past it
            while (flaky.Requests == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "no traffic to the restarted backend: " + await _lb.Admin.GetStringAsync("/api/runtime", Ct));
                using var response = await GetAsync("recover.test");
                await Task.Delay(50, Ct);
            }
            var view = await TargetAsync(flaky.Address);
            Assert.True(view.GetProperty("healthy").GetBoolean());
            Assert.Equal(0, view.GetProperty("consecutive_failures").GetInt32());
            Assert.False(view.TryGetProperty("ejected_until", out _));
        }
        finally
        {
            hold?.Dispose();
            await flaky.DisposeAsync();
        }
    }

    private async Task<HttpResponseMessage> GetAsync(string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/info");
        request.Headers.Host = host;
        return await _lb.Proxy.SendAsync(request, Ct);
    }

    private async Task<JsonElement> TargetAsync(string address)
    {
        var runtime = await _lb.GetJsonAsync<JsonElement>("/api/runtime");
        return runtime.GetProperty("upstreams")[0].GetProperty("targets").EnumerateArray().Single(t => t.GetProperty("address").GetString() == address);
    }

    [Fact]
    public async Task CONNECT_is_a_client_error_not_an_upstream_error()
    {
        await using var backend = await TestBackend.StartAsync("any");
        await _lb.PutConfigAsync(Configs.SingleRoute("example.com", "round_robin", backend));

        var response = await RawAsync("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 405 ", response, StringComparison.Ordinal);
        Assert.Contains("CONNECT is not supported", response, StringComparison.Ordinal);
        Assert.Equal(0, backend.Requests);
    }

    [Fact]
    public async Task A_bad_chunk_size_is_answered_in_plain_words()
    {
        await using var backend = await TestBackend.StartAsync("any");
        await _lb.PutConfigAsync(Configs.SingleRoute("chunk.test", "round_robin", backend));

        var response = await RawAsync("POST /count HTTP/1.1\r\nHost: chunk.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
        Assert.Contains("invalid chunked encoding", response, StringComparison.Ordinal);
        Assert.DoesNotContain("One or more errors", response, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", response, StringComparison.Ordinal);
    }

    /// <summary>Sends raw bytes to the proxy listener and returns what came back until the response ended.</summary>
    private async Task<string> RawAsync(string request)
    {
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _lb.ProxyUri.Port, Ct);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (!received.ToString().Contains("\r\n0\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                break;
            }
            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        return received.ToString();
    }
}

public sealed class ProxyHardeningTestsOnYarpPath() : ProxyHardeningTests(ProxyPath.Yarp);

public sealed class ProxyHardeningTestsOnFastPath() : ProxyHardeningTests(ProxyPath.Fast);

public sealed class ProxyHardeningTestsOnLoopPath() : ProxyHardeningTests(ProxyPath.Loop);
