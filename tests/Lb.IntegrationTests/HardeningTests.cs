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
            await using var lb = await LbServer.StartAsync(o => o.TrustedProxies = ["127.0.0.1"]);
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
}
