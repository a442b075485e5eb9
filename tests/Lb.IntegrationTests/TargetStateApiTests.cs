using System.Net;
using System.Text;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary><c>PUT /api/pools/{pool}/targets/{address}/state</c> through a real Lb, with sticky clients.</summary>
public sealed class TargetStateApiTests : IAsyncLifetime
{
    private LbServer _lb = null!;
    private TestBackend _x = null!;
    private TestBackend _y = null!;

    public async ValueTask InitializeAsync()
    {
        _lb = await LbServer.StartAsync();
        _x = await TestBackend.StartAsync("x");
        _y = await TestBackend.StartAsync("y");
        await _lb.PutConfigAsync(Configs.SingleRoute("state.test", "sticky_cookie", _x, _y));
    }

    public async ValueTask DisposeAsync()
    {
        await _lb.DisposeAsync();
        await _x.DisposeAsync();
        await _y.DisposeAsync();
    }

    private async Task<(string Backend, string? Cookie)> GetAsync(string? cookie = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/info");
        request.Headers.Host = "state.test";
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }
        using var response = await _lb.Proxy.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var set = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.Single().Split(';')[0] : null;
        return (response.Headers.GetValues("X-Backend").Single(), set);
    }

    private async Task<HttpResponseMessage> SetStateAsync(string pool, string address, string body) =>
        await _lb.Admin.PutAsync($"/api/pools/{pool}/targets/{address}/state", new StringContent(body, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

    [Fact]
    public async Task Drain_keeps_sticky_clients_and_sends_new_ones_elsewhere_then_maint_moves_them_and_ready_restores()
    {
        var (first, cookie) = await GetAsync();
        Assert.NotNull(cookie);
        var pinned = first == "x" ? _x : _y;
        var other = first == "x" ? "y" : "x";

        using (var drain = await SetStateAsync("pool", pinned.Address, """{"state":"drain"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, drain.StatusCode);
            Assert.Contains("\"state\":\"drain\",\"version\":2", await drain.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        }
        // Replicated as desired state: the configuration carries it, the runtime shows it.
        Assert.Contains($"{{\"address\":\"{pinned.Address}\",\"state\":\"drain\"}}", await _lb.Admin.GetStringAsync("/api/config", TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Contains("\"state\":\"drain\"", await _lb.Admin.GetStringAsync("/api/runtime", TestContext.Current.CancellationToken), StringComparison.Ordinal);

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(other, (await GetAsync()).Backend);
            Assert.Equal(first, (await GetAsync(cookie)).Backend);
        }

        using (var maint = await SetStateAsync("pool", pinned.Address, """{"state":"maint"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, maint.StatusCode);
        }
        var (moved, repinned) = await GetAsync(cookie);
        Assert.Equal(other, moved);
        Assert.NotNull(repinned);

        using (var ready = await SetStateAsync("pool", pinned.Address, """{"state":"ready"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
        var seen = new HashSet<string>();
        for (var i = 0; i < 4; i++)
        {
            seen.Add((await GetAsync()).Backend);
        }
        Assert.Equal(["x", "y"], seen.Order());
        Assert.DoesNotContain("\"state\"", await _lb.Admin.GetStringAsync("/api/config", TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_state_or_an_unknown_pool_or_target_is_refused_and_changes_nothing()
    {
        using var typo = await SetStateAsync("pool", _x.Address, """{"state":"maintenance"}""");
        Assert.Equal(HttpStatusCode.BadRequest, typo.StatusCode);
        Assert.Contains("did you mean 'maint'?", await typo.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);

        using var pool = await SetStateAsync("nope", _x.Address, """{"state":"drain"}""");
        Assert.Equal(HttpStatusCode.NotFound, pool.StatusCode);
        using var target = await SetStateAsync("pool", "127.0.0.1:1", """{"state":"drain"}""");
        Assert.Equal(HttpStatusCode.NotFound, target.StatusCode);

        Assert.Contains("\"version\":1", await _lb.Admin.GetStringAsync("/api/config", TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_standalone_node_adds_replaces_and_deletes_one_route_at_a_time()
    {
        var ct = TestContext.Current.CancellationToken;
        using (var added = await _lb.Admin.PutAsync("/api/routes/only-y", new StringContent(
            """{"enabled":true,"match":{"hosts":["y.test"]},"upstream_pool":"y"}""", Encoding.UTF8, "application/json"), ct))
        {
            // The pool does not exist yet: refused with the field that names it.
            Assert.Equal(HttpStatusCode.UnprocessableEntity, added.StatusCode);
            Assert.Contains("routes[1].upstream_pool", await added.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        }
        using (var pool = await _lb.Admin.PutAsync("/api/pools/y", new StringContent($$"""{"upstreams":["{{_y.Address}}"]}""", Encoding.UTF8, "application/json"), ct))
        {
            Assert.Equal(HttpStatusCode.OK, pool.StatusCode);
        }
        using (var added = await _lb.Admin.PutAsync("/api/routes/only-y", new StringContent(
            """{"enabled":true,"match":{"hosts":["y.test"]},"upstream_pool":"y"}""", Encoding.UTF8, "application/json"), ct))
        {
            Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/info");
        request.Headers.Host = "y.test";
        using (var response = await _lb.Proxy.SendAsync(request, ct))
        {
            Assert.Equal("y", response.Headers.GetValues("X-Backend").Single());
        }
        Assert.Contains("\"upstream_pool\":\"y\"", await _lb.Admin.GetStringAsync("/api/routes/only-y", ct), StringComparison.Ordinal);
        using (var deleted = await _lb.Admin.DeleteAsync("/api/routes/only-y", ct))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }
        using var gone = await _lb.Admin.GetAsync("/api/routes/only-y", ct);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }
}
