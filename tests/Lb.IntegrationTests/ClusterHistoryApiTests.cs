using System.Net;
using System.Text;
using System.Text.Json;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>History, rollback and sticky sessions across a three-node cluster (three servers in this process, real Raft on loopback).</summary>
public sealed class ClusterHistoryApiTests : IAsyncLifetime
{
    private readonly List<LbServer> _nodes = [];

    public async ValueTask InitializeAsync()
    {
        for (var i = 1; i <= 3; i++)
        {
            var id = $"node-{i}";
            _nodes.Add(await LbServer.StartAsync(o => o.NodeId = id));
        }
        var first = RaftAddress();
        await PostOkAsync(_nodes[0], "/api/cluster/bootstrap", $$"""{"node_id":"node-1","raft_advertise_addr":"{{first}}","raft_bind_addr":"{{first}}"}""");
        for (var i = 1; i < 3; i++)
        {
            var address = RaftAddress();
            await PostOkAsync(_nodes[i], "/api/node/join-cluster",
                $$"""{"node_id":"node-{{i + 1}}","raft_advertise_addr":"{{address}}","raft_bind_addr":"{{address}}","peers":["{{_nodes[0].AdminUri}}"]}""");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    private static string RaftAddress() => $"127.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}:7000";

    private static async Task<(HttpStatusCode Status, string Body)> PostAsync(LbServer node, string path, string json, string? origin = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (origin is not null)
        {
            request.Headers.Add("X-Lb-Origin", origin);
        }
        using var response = await node.Admin.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static async Task PostOkAsync(LbServer node, string path, string json)
    {
        var (status, body) = await PostAsync(node, path, json);
        Assert.True((int)status is >= 200 and < 300, $"POST {path} answered {(int)status}: {body}");
    }

    private static async Task PutAsync(LbServer node, string json, string origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/config") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Lb-Origin", origin);
        using var response = await node.Admin.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"PUT answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
    }

    private static async Task<JsonElement> EventuallyAtVersionAsync(LbServer node, string path, long version)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var config = await node.GetJsonAsync<JsonElement>("/api/config");
            if (config.GetProperty("version").GetInt64() >= version)
            {
                return await node.GetJsonAsync<JsonElement>(path);
            }
            await Task.Delay(20, cts.Token);
        }
    }

    [Fact]
    public async Task History_is_the_same_on_every_node_and_a_rollback_on_a_follower_applies_everywhere()
    {
        var leader = _nodes[0];
        var follower = _nodes[2];
        await PutAsync(_nodes[1], Configs.SingleRoute("one.test", "round_robin", ["127.0.0.1:9"]), "first-editor");
        await PutAsync(follower, Configs.SingleRoute("two.test", "round_robin", ["127.0.0.1:9"]), "second-editor");
        var version = (await follower.GetJsonAsync<JsonElement>("/api/config")).GetProperty("version").GetInt64();

        var histories = new List<string>();
        foreach (var node in _nodes)
        {
            var history = await EventuallyAtVersionAsync(node, "/api/config/history", version);
            histories.Add(history.GetProperty("entries").GetRawText());
        }
        Assert.All(histories, h => Assert.Equal(histories[0], h));
        var entries = JsonDocument.Parse(histories[0]).RootElement;
        Assert.Equal(version, entries[0].GetProperty("version").GetInt64());
        Assert.StartsWith("second-editor", entries[0].GetProperty("origin").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("first-editor", entries[1].GetProperty("origin").GetString(), StringComparison.Ordinal);
        var firstVersion = entries[1].GetProperty("version").GetInt64();
        var kept = await leader.GetJsonAsync<JsonElement>($"/api/config/history/{firstVersion}");
        Assert.Equal("one.test", kept.GetProperty("config").GetProperty("routes")[0].GetProperty("match").GetProperty("hosts")[0].GetString());

        var (status, body) = await PostAsync(follower, "/api/config/rollback", $$"""{"version":{{firstVersion}}}""", "dashboard");

        Assert.True(status == HttpStatusCode.OK, $"rollback answered {(int)status}: {body}");
        foreach (var node in _nodes)
        {
            var config = await EventuallyAtVersionAsync(node, "/api/config", version + 1);
            Assert.Equal(version + 1, config.GetProperty("version").GetInt64());
            Assert.Equal("one.test", config.GetProperty("routes")[0].GetProperty("match").GetProperty("hosts")[0].GetString());
            var history = await node.GetJsonAsync<JsonElement>("/api/config/history");
            Assert.StartsWith($"rollback to version {firstVersion}", history.GetProperty("entries")[0].GetProperty("origin").GetString(), StringComparison.Ordinal);
        }
        var (unknown, _) = await PostAsync(follower, "/api/config/rollback", """{"version":999999}""");
        Assert.Equal(HttpStatusCode.NotFound, unknown);
    }

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(LbServer node, HttpMethod method, string path, string? json = null, string? ifMatch = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }
        using var response = await node.Admin.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task One_route_or_pool_written_on_a_follower_reaches_every_node_and_is_checked_like_any_write()
    {
        await using var backend = await TestBackend.StartAsync("item");
        var (poolStatus, poolBody) = await SendAsync(_nodes[1], HttpMethod.Put, "/api/pools/items", $$"""{"upstreams":["{{backend.Address}}"]}""");
        Assert.True(poolStatus == HttpStatusCode.OK, $"PUT pool answered {(int)poolStatus}: {poolBody}");
        var (routeStatus, routeBody) = await SendAsync(_nodes[2], HttpMethod.Put, "/api/routes/items",
            """{"enabled":true,"match":{"hosts":["items.test"]},"upstream_pool":"items"}""");
        Assert.True(routeStatus == HttpStatusCode.OK, $"PUT route answered {(int)routeStatus}: {routeBody}");
        var version = JsonDocument.Parse(routeBody).RootElement.GetProperty("version").GetInt64();

        foreach (var node in _nodes)
        {
            var route = await EventuallyAtVersionAsync(node, "/api/routes/items", version);
            Assert.Equal("items", route.GetProperty("upstream_pool").GetString());
            var runtime = (Lb.Core.Runtime.IRuntimeApplyStatus)node.Services.GetService(typeof(Lb.Core.Runtime.IRuntimeApplyStatus))!;
            await runtime.WaitForAppliedAsync(version, TestContext.Current.CancellationToken);
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Host = "items.test";
            using var proxied = await node.Proxy.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal("item", BackendOf(proxied));
            var history = await node.GetJsonAsync<JsonElement>("/api/config/history");
            Assert.StartsWith("add route items", history.GetProperty("entries")[0].GetProperty("origin").GetString(), StringComparison.Ordinal);
        }

        // A stale compare-and-set is refused on every node; a pool still in use cannot go; an unknown id is a 404.
        foreach (var node in _nodes)
        {
            var (stale, _) = await SendAsync(node, HttpMethod.Put, "/api/routes/items", """{"enabled":false,"upstream_pool":"items"}""", "\"1\"");
            Assert.Equal(HttpStatusCode.PreconditionFailed, stale);
        }
        var (inUse, inUseBody) = await SendAsync(_nodes[0], HttpMethod.Delete, "/api/pools/items");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, inUse);
        Assert.Contains("routes[0].upstream_pool", inUseBody, StringComparison.Ordinal);
        var (missing, _) = await SendAsync(_nodes[1], HttpMethod.Delete, "/api/routes/nope");
        Assert.Equal(HttpStatusCode.NotFound, missing);
        var (renamed, _) = await SendAsync(_nodes[1], HttpMethod.Put, "/api/routes/items", """{"id":"other","upstream_pool":"items"}""");
        Assert.Equal(HttpStatusCode.BadRequest, renamed);

        var (deleted, deletedBody) = await SendAsync(_nodes[2], HttpMethod.Delete, "/api/routes/items");
        Assert.True(deleted == HttpStatusCode.OK, $"DELETE answered {(int)deleted}: {deletedBody}");
        var afterDelete = JsonDocument.Parse(deletedBody).RootElement.GetProperty("version").GetInt64();
        foreach (var node in _nodes)
        {
            var config = await EventuallyAtVersionAsync(node, "/api/config", afterDelete);
            Assert.Equal(0, config.GetProperty("routes").GetArrayLength());
        }
    }

    [Fact]
    public async Task A_sticky_cookie_issued_by_one_node_pins_the_client_to_the_same_target_on_every_node()
    {
        await using var a = await TestBackend.StartAsync("a");
        await using var b = await TestBackend.StartAsync("b");
        await using var c = await TestBackend.StartAsync("c");
        await PutAsync(_nodes[1], Configs.SingleRoute("sticky.test", "sticky_cookie", a, b, c), "test");
        var version = (await _nodes[1].GetJsonAsync<JsonElement>("/api/config")).GetProperty("version").GetInt64();
        foreach (var node in _nodes)
        {
            await EventuallyAtVersionAsync(node, "/api/config", version);
            var runtime = node.Services.GetService(typeof(Lb.Core.Runtime.IRuntimeApplyStatus)) as Lb.Core.Runtime.IRuntimeApplyStatus;
            await runtime!.WaitForAppliedAsync(version, TestContext.Current.CancellationToken);
        }

        // Pin three clients through the leader, then send each one's cookie through the other two nodes (as after a
        // failover or through a VIP that moved).
        for (var client = 0; client < 3; client++)
        {
            using var first = await GetAsync(_nodes[0], null);
            var cookie = Assert.Single(first.Headers.GetValues("Set-Cookie")).Split(';')[0];
            var pinned = BackendOf(first);
            foreach (var other in _nodes.Skip(1))
            {
                using var again = await GetAsync(other, cookie);
                Assert.Equal(pinned, BackendOf(again));
                Assert.False(again.Headers.Contains("Set-Cookie"), "the other node did not recognise the cookie and pinned the client anew");
            }
        }
    }

    private static async Task<HttpResponseMessage> GetAsync(LbServer node, string? cookie)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Host = "sticky.test";
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }
        return await node.Proxy.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private static string BackendOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Backend", out var values) ? values.Single() : $"(status {(int)response.StatusCode})";
}
