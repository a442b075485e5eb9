using System.Net;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>The HAProxy-style policies (source, uri, url_param, hdr, random) through a real Lb and real backends, on both proxy paths.</summary>
public abstract class HaproxyPolicyProxyTests(ProxyPath path) : ProxyPathTests(path), IAsyncLifetime
{
    private LbServer _lb = null!;
    private readonly List<TestBackend> _backends = [];

    public async ValueTask InitializeAsync()
    {
        _lb = await StartLbAsync(proxy: o => o.TrustedProxies = ["127.0.0.1/32"]);
        foreach (var name in new[] { "a", "b", "c", "d" })
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

    private Task UseAsync(string algorithm, string? hashKey = null)
    {
        var list = string.Join(",", _backends.Select(b => $"\"{b.Address}\""));
        return _lb.PutConfigAsync("{\"routes\":[{\"id\":\"r\",\"enabled\":true,\"algorithm\":\"" + algorithm + "\""
            + (hashKey is null ? "" : ",\"hash_key\":\"" + hashKey + "\"")
            + ",\"match\":{\"hosts\":[\"policy.test\"]},\"upstream_pool\":\"pool\"}],\"upstream_pools\":{\"pool\":{\"upstreams\":[" + list + "]}}}");
    }

    private async Task<string> BackendAsync(string path, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = "policy.test";
        configure?.Invoke(request);
        using var response = await _lb.Proxy.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("X-Backend").Single();
    }

    /// <summary>Sends each key twice: both answers must agree; returns how many backends the keys reached.</summary>
    private async Task<int> SpreadAsync(int keys, Func<int, Task<string>> send)
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < keys; i++)
        {
            var first = await send(i);
            Assert.Equal(first, await send(i));
            seen.Add(first);
        }
        return seen.Count;
    }

    [Fact]
    public async Task Source_pins_each_client_address_to_one_backend()
    {
        await UseAsync("source");
        // The test client is trusted, so its X-Forwarded-For is the client address the policy hashes.
        var reached = await SpreadAsync(24, i => BackendAsync("/api/info", r => r.Headers.Add("X-Forwarded-For", $"198.51.100.{i + 1}")));
        Assert.True(reached >= 3, $"24 clients reached only {reached} backends");
    }

    [Fact]
    public async Task Uri_pins_each_path_to_one_backend_whatever_the_query()
    {
        await UseAsync("uri");
        var reached = await SpreadAsync(24, i => BackendAsync($"/static/{i}/style?v={i % 3}"));
        Assert.True(reached >= 3, $"24 paths reached only {reached} backends");
        Assert.Equal(await BackendAsync("/static/7/style?v=1"), await BackendAsync("/static/7/style?v=2"));
    }

    [Fact]
    public async Task Url_param_pins_each_parameter_value_to_one_backend()
    {
        await UseAsync("url_param", "userid");
        var reached = await SpreadAsync(24, i => BackendAsync($"/api/info?x={i % 5}&userid={i}"));
        Assert.True(reached >= 3, $"24 users reached only {reached} backends");
    }

    [Fact]
    public async Task Hdr_pins_each_header_value_to_one_backend_and_rotates_without_it()
    {
        await UseAsync("hdr", "X-User");
        var reached = await SpreadAsync(24, i => BackendAsync("/api/info", r => r.Headers.Add("X-User", $"user-{i}")));
        Assert.True(reached >= 3, $"24 users reached only {reached} backends");
        var without = new HashSet<string>();
        for (var i = 0; i < 4; i++)
        {
            without.Add(await BackendAsync("/api/info"));
        }
        Assert.Equal(4, without.Count);
    }

    [Fact]
    public async Task Random_of_two_avoids_a_backend_with_a_request_in_flight()
    {
        // Two backends: every pick weighs both, so the one holding a request never wins.
        var pair = _backends.Take(2).ToArray();
        await _lb.PutConfigAsync(Configs.SingleRoute("policy.test", "random", pair));
        var held = new HttpRequestMessage(HttpMethod.Get, "/hold");
        held.Headers.Host = "policy.test";
        var pending = _lb.Proxy.SendAsync(held, TestContext.Current.CancellationToken);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (pair.Sum(b => b.Held) < 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the held request did not arrive");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
        var busy = pair.Single(b => b.Held == 1);
        var idle = pair.Single(b => b.Held == 0);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(idle.Name, await BackendAsync("/api/info"));
        }
        busy.ReleaseHeld();
        using var response = await pending;
        held.Dispose();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

public sealed class HaproxyPolicyProxyTestsOnYarpPath() : HaproxyPolicyProxyTests(ProxyPath.Yarp);

public sealed class HaproxyPolicyProxyTestsOnFastPath() : HaproxyPolicyProxyTests(ProxyPath.Fast);

public sealed class HaproxyPolicyProxyTestsOnLoopPath() : HaproxyPolicyProxyTests(ProxyPath.Loop);
