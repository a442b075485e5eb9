using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>
/// Connection limits with a queue, per-route timeouts and request size limits, through a real Lb and real backends,
/// on both proxy paths.
/// </summary>
public abstract class LimitsTests(ProxyPath path) : ProxyPathTests(path), IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A generous bound for things that happen at once on a quiet machine.</summary>
    private static readonly TimeSpan Eventually = TimeSpan.FromSeconds(30);

    private LbServer _lb = null!;
    private TestBackend _a = null!;
    private TestBackend _b = null!;

    public async ValueTask InitializeAsync()
    {
        _lb = await StartLbAsync();
        _a = await TestBackend.StartAsync("a");
        _b = await TestBackend.StartAsync("b");
    }

    public async ValueTask DisposeAsync()
    {
        _a.ReleaseHeld();
        _b.ReleaseHeld();
        await _lb.DisposeAsync();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    private Task UseAsync(string poolExtras, string routeExtras = "", string algorithm = "round_robin", string[]? upstreams = null)
    {
        var list = string.Join(",", (upstreams ?? [_a.Address]).Select(a => $"\"{a}\""));
        return _lb.PutConfigAsync("{\"routes\":[{\"id\":\"r\",\"enabled\":true,\"algorithm\":\"" + algorithm + "\",\"match\":{\"hosts\":[\"limits.test\"]},\"upstream_pool\":\"pool\""
            + routeExtras + "}],\"upstream_pools\":{\"pool\":{\"upstreams\":[" + list + "]" + poolExtras + "}}}");
    }

    private Task<HttpResponseMessage> SendAsync(string path, HttpMethod? method = null, HttpContent? content = null, Action<HttpRequestMessage>? configure = null) =>
        SendOrAbortAsync(path, Ct, method, content, configure);

    private async Task<HttpResponseMessage> SendOrAbortAsync(string path, CancellationToken abort, HttpMethod? method = null, HttpContent? content = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, path) { Content = content };
        request.Headers.Host = "limits.test";
        configure?.Invoke(request);
        return await _lb.Proxy.SendAsync(request, abort);
    }

    private async Task<Dictionary<string, string>> StatsAsync(string type, string name)
    {
        var csv = await _lb.Admin.GetStringAsync("/stats;csv", Ct);
        var lines = csv.TrimEnd('\n').Split('\n');
        var columns = lines[0].TrimStart('#', ' ').Split(',');
        var row = lines.Skip(1).Select(l => l.Split(',')).Single(cells => cells[0] == type && (type == "pool" ? cells[2] == name : cells[3] == name));
        return columns.Zip(row).ToDictionary(p => p.First, p => p.Second);
    }

    private async Task WaitForStatAsync(string type, string name, string column, string value)
    {
        var deadline = DateTime.UtcNow + Eventually;
        string seen;
        while ((seen = (await StatsAsync(type, name))[column]) != value)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{type} {name}: {column} stayed {seen}, expected {value}");
            await Task.Delay(20, Ct);
        }
    }

    [Fact]
    public async Task A_third_request_to_a_target_with_max_connections_2_waits_in_the_queue_and_is_served_when_a_slot_frees()
    {
        await UseAsync(",\"max_connections\":2,\"queue_timeout\":\"60s\"");
        var first = SendAsync("/hold");
        var second = SendAsync("/hold");
        await _a.WaitForHeldAsync(2);
        var third = SendAsync("/hold");
        await WaitForStatAsync("pool", "pool", "qcur", "1");
        Assert.Equal(2, _a.Held);
        Assert.False(third.IsCompleted);
        var target = await StatsAsync("target", _a.Address);
        Assert.Equal(("2", "2"), (target["scur"], target["slim"]));

        _a.ReleaseHeld();
        using (var r1 = await first)
        using (var r2 = await second)
        {
            Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (r1.StatusCode, r2.StatusCode));
        }
        await _a.WaitForHeldAsync(1);
        _a.ReleaseHeld();
        using var r3 = await third;
        Assert.Equal(HttpStatusCode.OK, r3.StatusCode);
        Assert.Equal("a", await r3.Content.ReadAsStringAsync(Ct));
        var pool = await StatsAsync("pool", "pool");
        Assert.Equal(("0", "1", "1000"), (pool["qcur"], pool["qmax"], pool["qlimit"]));
        await WaitForStatAsync("target", _a.Address, "scur", "0");
    }

    [Fact]
    public async Task Runtime_view_shows_the_target_limit_its_in_flight_request_and_the_queued_one()
    {
        await UseAsync(",\"max_connections\":1,\"queue_size\":5,\"queue_timeout\":\"50s\"");
        var first = SendAsync("/hold");
        await _a.WaitForHeldAsync(1);
        var second = SendAsync("/hold");
        await WaitForStatAsync("pool", "pool", "qcur", "1");

        using (var runtime = JsonDocument.Parse(await _lb.Admin.GetStringAsync("/api/runtime", Ct)))
        {
            var pool = runtime.RootElement.GetProperty("upstreams").EnumerateArray().Single(p => p.GetProperty("id").GetString() == "pool");
            var target = pool.GetProperty("targets")[0];
            Assert.Equal((1, 1), (target.GetProperty("max_connections").GetInt32(), target.GetProperty("active_connections").GetInt32()));
            var queue = pool.GetProperty("queue");
            Assert.Equal((5, "50s", 1, 1), (queue.GetProperty("queue_size").GetInt32(), queue.GetProperty("queue_timeout").GetString(),
                queue.GetProperty("queued").GetInt32(), queue.GetProperty("max_queued").GetInt32()));
        }

        _a.ReleaseHeld();
        (await first).Dispose();
        await _a.WaitForHeldAsync(1);
        _a.ReleaseHeld();
        (await second).Dispose();
        await WaitForStatAsync("target", _a.Address, "scur", "0");
        using var after = JsonDocument.Parse(await _lb.Admin.GetStringAsync("/api/runtime", Ct));
        var afterPool = after.RootElement.GetProperty("upstreams")[0];
        Assert.Equal(0, afterPool.GetProperty("queue").GetProperty("queued").GetInt32());
        Assert.Equal(0, afterPool.GetProperty("targets")[0].GetProperty("active_connections").GetInt32());
    }

    [Fact]
    public async Task Runtime_view_has_no_limit_or_queue_for_a_pool_without_max_connections()
    {
        await UseAsync("");
        using var runtime = JsonDocument.Parse(await _lb.Admin.GetStringAsync("/api/runtime", Ct));
        var pool = runtime.RootElement.GetProperty("upstreams")[0];
        Assert.False(pool.TryGetProperty("queue", out _));
        Assert.False(pool.GetProperty("targets")[0].TryGetProperty("max_connections", out _));
    }

    [Fact]
    public async Task Stats_bin_and_bout_count_the_bytes_of_chunked_request_and_response_bodies()
    {
        await UseAsync("");
        // A chunked upload of 5000 bytes; the backend answers "5000" (Kestrel declares that short body's length).
        var upload = new StreamContent(new MemoryStream(new byte[5000]));
        upload.Headers.ContentLength = null;
        using (var counted = await SendAsync("/count", method: HttpMethod.Post, content: upload, configure: r => r.Headers.TransferEncodingChunked = true))
        {
            Assert.Equal("5000", await counted.Content.ReadAsStringAsync(Ct));
        }
        // A chunked download of 100000 bytes (the backend writes it in 64 KiB pieces without declaring a length).
        using (var download = await SendAsync("/bytes/100000"))
        {
            Assert.Equal(100_000, (await download.Content.ReadAsByteArrayAsync(Ct)).Length);
        }
        await WaitForStatAsync("target", _a.Address, "scur", "0");
        var target = await StatsAsync("target", _a.Address);
        Assert.Equal(("5000", "100004"), (target["bin"], target["bout"]));
        var pool = await StatsAsync("pool", "pool");
        Assert.Equal(("5000", "100004"), (pool["bin"], pool["bout"]));
    }

    [Fact]
    public async Task A_request_that_finds_the_queue_full_gets_503_naming_the_limit()
    {
        await UseAsync(",\"max_connections\":1,\"queue_size\":0");
        var held = SendAsync("/hold");
        await _a.WaitForHeldAsync(1);
        using (var refused = await SendAsync("/api/info"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Contains("queue is full", await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
        _a.ReleaseHeld();
        using (var ok = await held)
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        await WaitForStatAsync("target", _a.Address, "scur", "0");
        using var after = await SendAsync("/api/info");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task A_queued_request_gets_503_when_no_slot_frees_within_queue_timeout()
    {
        await UseAsync(",\"max_connections\":1,\"queue_timeout\":\"300ms\"");
        var held = SendAsync("/hold");
        await _a.WaitForHeldAsync(1);
        using (var timedOut = await SendAsync("/api/info"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, timedOut.StatusCode);
            Assert.Contains("queue_timeout", await timedOut.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
        Assert.Equal("0", (await StatsAsync("pool", "pool"))["qcur"]);
        _a.ReleaseHeld();
        using var ok = await held;
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task Slots_are_released_after_upstream_errors_timeouts_refusals_and_client_aborts()
    {
        using var refusing = new RefusingPort();
        // One slot and no queue: a leaked slot would turn the next request into a 503.
        await UseAsync(",\"max_connections\":1,\"queue_size\":0", ",\"server_timeout\":\"300ms\"");
        using (var error = await SendAsync("/status/500"))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, error.StatusCode);
        }
        using (var timeout = await SendAsync("/sleep/5000"))
        {
            Assert.Equal(HttpStatusCode.GatewayTimeout, timeout.StatusCode);
        }
        using (var abort = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            var held = SendOrAbortAsync("/hold", abort.Token);
            await _a.WaitForHeldAsync(1);
            await abort.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held);
        }
        await WaitForStatAsync("target", _a.Address, "scur", "0");
        using (var ok = await SendAsync("/api/info"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // A refused connection releases its slot too (the request is retried once on the other target).
        await UseAsync(",\"max_connections\":1,\"queue_size\":0", upstreams: [_a.Address, refusing.Address]);
        for (var i = 0; i < 4; i++)
        {
            using var response = await SendAsync("/api/info");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        await WaitForStatAsync("target", refusing.Address, "scur", "0");
        await WaitForStatAsync("target", _a.Address, "scur", "0");
    }

    [Fact]
    public async Task A_target_at_its_limit_is_skipped_while_another_has_room()
    {
        // uri hashes every /hold to the same target: with it full, the next one on the ring takes the request.
        await UseAsync(",\"max_connections\":1", algorithm: "uri", upstreams: [_a.Address, _b.Address]);
        var first = SendAsync("/hold");
        var second = SendAsync("/hold");
        await WaitUntilAsync(() => _a.Held + _b.Held == 2);
        Assert.Equal((1, 1), (_a.Held, _b.Held));
        _a.ReleaseHeld();
        _b.ReleaseHeld();
        using var r1 = await first;
        using var r2 = await second;
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (r1.StatusCode, r2.StatusCode));
    }

    [Fact]
    public async Task An_upstream_override_of_max_connections_wins_over_the_pool_default()
    {
        await _lb.PutConfigAsync("{\"routes\":[{\"id\":\"r\",\"enabled\":true,\"match\":{\"hosts\":[\"limits.test\"]},\"upstream_pool\":\"pool\"}],"
            + "\"upstream_pools\":{\"pool\":{\"max_connections\":1,\"queue_size\":0,\"upstreams\":[{\"address\":\"" + _a.Address + "\",\"max_connections\":2}]}}}");
        var first = SendAsync("/hold");
        var second = SendAsync("/hold");
        await _a.WaitForHeldAsync(2);
        using (var third = await SendAsync("/api/info"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, third.StatusCode);
        }
        _a.ReleaseHeld();
        (await first).Dispose();
        (await second).Dispose();
    }

    [Fact]
    public async Task Server_timeout_on_the_route_overrides_the_pool_response_timeout_with_504()
    {
        await UseAsync(",\"response_timeout\":\"30s\"", ",\"server_timeout\":\"300ms\"");
        using var response = await SendAsync("/sleep/5000");
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        using var fast = await SendAsync("/sleep/10");
        Assert.Equal(HttpStatusCode.OK, fast.StatusCode);
    }

    [Fact]
    public async Task Connect_timeout_on_the_route_overrides_the_pool_connect_timeout()
    {
        using var blackhole = await UnansweredPort.OpenAsync();
        // The pool would wait an hour; the route's 300ms is what ends the connect.
        await UseAsync(",\"connect_timeout\":\"1h\"", ",\"connect_timeout\":\"300ms\"", upstreams: [blackhole.Address]);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        bound.CancelAfter(Eventually);
        using var response = await SendOrAbortAsync("/api/info", bound.Token);
        Assert.Contains(response.StatusCode, new[] { HttpStatusCode.BadGateway, HttpStatusCode.GatewayTimeout });
    }

    [Fact]
    public async Task A_client_that_stops_sending_its_body_gets_408_after_client_timeout()
    {
        await UseAsync("", ",\"client_timeout\":\"300ms\"");
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _lb.Proxy.BaseAddress!.Port, Ct);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("POST /count HTTP/1.1\r\nHost: limits.test\r\nContent-Length: 100\r\n\r\nonly-part"), Ct);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        wait.CancelAfter(Eventually);
        var status = await reader.ReadLineAsync(wait.Token);
        Assert.StartsWith("HTTP/1.1 408", status, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_the_route_limit_gets_413_and_one_at_the_limit_passes()
    {
        await UseAsync("", ",\"max_request_body_size\":10");
        using (var ok = await SendAsync("/count", method: HttpMethod.Post, content: new ByteArrayContent(new byte[10])))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("10", await ok.Content.ReadAsStringAsync(Ct));
        }
        using (var tooLarge = await SendAsync("/count", method: HttpMethod.Post, content: new ByteArrayContent(new byte[11])))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        }
        // Without a declared length the limit is enforced as the body streams.
        var chunked = new StreamContent(new MemoryStream(new byte[64]));
        chunked.Headers.ContentLength = null;
        using var streamed = await SendAsync("/count", method: HttpMethod.Post, content: chunked, configure: r => r.Headers.TransferEncodingChunked = true);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
    }

    [Fact]
    public async Task Requests_over_the_route_header_count_or_size_get_431()
    {
        await UseAsync("", ",\"max_request_header_count\":8,\"max_request_headers_size\":400");
        using (var ok = await SendAsync("/api/info"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using (var many = await SendAsync("/api/info", configure: r =>
        {
            for (var i = 0; i < 10; i++)
            {
                r.Headers.Add($"X-Extra-{i}", "1");
            }
        }))
        {
            Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, many.StatusCode);
        }
        using var large = await SendAsync("/api/info", configure: r => r.Headers.Add("X-Large", new string('x', 500)));
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, large.StatusCode);
    }

    /// <summary>
    /// A loopback port whose accept queue is full and never drained: further connects get no answer (the kernel drops
    /// their SYNs), which is how an unreachable target looks to a connect.
    /// </summary>
    private sealed class UnansweredPort : IDisposable
    {
        private readonly Socket _listener;
        private readonly List<Socket> _fillers = [];

        private UnansweredPort(Socket listener) => _listener = listener;

        public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint!).Port}";

        public static async Task<UnansweredPort> OpenAsync()
        {
            var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(0);
            var port = new UnansweredPort(listener);
            // Fill the accept queue until a connect goes unanswered.
            for (var i = 0; i < 64; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                port._fillers.Add(filler);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(Ct);
                wait.CancelAfter(TimeSpan.FromMilliseconds(500));
                try
                {
                    await filler.ConnectAsync(listener.LocalEndPoint!, wait.Token);
                }
                catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
                {
                    return port;
                }
            }
            throw new InvalidOperationException("the accept queue never filled");
        }

        public void Dispose()
        {
            foreach (var filler in _fillers)
            {
                filler.Dispose();
            }
            _listener.Dispose();
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Eventually;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(20, Ct);
        }
    }
}

public sealed class LimitsTestsOnYarpPath() : LimitsTests(ProxyPath.Yarp);

public sealed class LimitsTestsOnFastPath() : LimitsTests(ProxyPath.Fast);

public sealed class LimitsTestsOnLoopPath() : LimitsTests(ProxyPath.Loop);
