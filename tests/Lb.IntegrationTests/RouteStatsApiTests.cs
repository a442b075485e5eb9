using System.Net;
using System.Text.Json.Nodes;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary><c>GET /api/stats/routes</c>: the per-route counters the dashboard turns into rates, error rates and p99.</summary>
public abstract class RouteStatsApiTests(ProxyPath path) : ProxyPathTests(path)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Route_counters_count_requests_server_errors_and_durations_per_route()
    {
        await using var backend = await TestBackend.StartAsync("stats");
        await using var lb = await StartLbAsync();
        // "up" reaches the backend; "down" points at a closed port, so the proxy answers 502.
        await lb.PutConfigAsync("{\"routes\":["
            + "{\"id\":\"up\",\"enabled\":true,\"match\":{\"hosts\":[\"up.test\"]},\"upstream_pool\":\"live\"},"
            + "{\"id\":\"down\",\"enabled\":true,\"match\":{\"hosts\":[\"down.test\"]},\"upstream_pool\":\"dead\"}],"
            + "\"upstream_pools\":{\"live\":{\"upstreams\":[\"" + backend.Address + "\"]},\"dead\":{\"upstreams\":[\"127.0.0.1:9\"]}}}");

        foreach (var (host, count) in new[] { ("up.test", 3), ("down.test", 2) })
        {
            for (var i = 0; i < count; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/api/info");
                request.Headers.Host = host;
                using var response = await lb.Proxy.SendAsync(request, Ct);
                Assert.Equal(host == "up.test" ? HttpStatusCode.OK : HttpStatusCode.BadGateway, response.StatusCode);
            }
        }

        var stats = JsonNode.Parse(await lb.Admin.GetStringAsync("/api/stats/routes", Ct))!;
        var bounds = stats["bucket_bounds"]!.AsArray();
        Assert.NotEmpty(bounds);
        var routes = stats["routes"]!.AsArray().ToDictionary(r => r!["route"]!.GetValue<string>());
        Assert.Equal(3, routes["up"]!["requests"]!.GetValue<long>());
        Assert.Equal(0, routes["up"]!["errors"]!.GetValue<long>());
        Assert.Equal(2, routes["down"]!["requests"]!.GetValue<long>());
        Assert.Equal(2, routes["down"]!["errors"]!.GetValue<long>());
        var buckets = routes["up"]!["duration_buckets"]!.AsArray().Select(b => b!.GetValue<long>()).ToArray();
        Assert.Equal(bounds.Count + 1, buckets.Length);
        Assert.Equal(3, buckets.Sum());
    }
}

public sealed class RouteStatsApiTestsOnYarpPath() : RouteStatsApiTests(ProxyPath.Yarp);

public sealed class RouteStatsApiTestsOnFastPath() : RouteStatsApiTests(ProxyPath.Fast);

public sealed class RouteStatsApiTestsOnLoopPath() : RouteStatsApiTests(ProxyPath.Loop);
