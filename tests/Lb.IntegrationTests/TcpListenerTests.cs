using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Lb.IntegrationTests;

/// <summary>TCP listeners of the desired state, end to end: real Lb node, real listeners and backends on loopback.</summary>
public sealed class TcpListenerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_thousand_concurrent_connections_echo_byte_exact_data_both_ways()
    {
        await using var a = TcpEchoBackend.Start();
        await using var b = TcpEchoBackend.Start();
        await using var lb = await LbServer.StartAsync();
        await lb.PutConfigAsync(Config(Pool("echo", a.Address, b.Address), Listener("echo", "echo")));
        var port = await ListenerPortAsync(lb, "echo");

        var clients = Enumerable.Range(0, 1000).Select(async i =>
        {
            var data = new byte[4096 + (i * 37 % 8192)];
            new Random(i).NextBytes(data);
            using var socket = await ConnectAsync(port);
            var reading = ReadToEndAsync(socket);
            await socket.SendAsync(data, SocketFlags.None, Ct);
            socket.Shutdown(SocketShutdown.Send); // the half-close reaches the backend, whose FIN comes back after the echo
            var echoed = await reading;
            Assert.Equal(data, echoed);
        }).ToArray();
        await Task.WhenAll(clients);

        Assert.Equal(1000, a.Accepted + b.Accepted);
        Assert.InRange(a.Accepted, 400, 600); // round robin over two targets
        var view = await ListenerViewAsync(lb, "echo");
        Assert.Equal(1000, view.GetProperty("accepted_connections").GetInt64());
    }

    [Fact]
    public async Task Least_connection_sends_new_connections_to_the_target_with_fewest_open_ones()
    {
        await using var a = TcpEchoBackend.Start(greeting: "A");
        await using var b = TcpEchoBackend.Start(greeting: "B");
        await using var lb = await LbServer.StartAsync();
        await lb.PutConfigAsync(Config(Pool("p", a.Address, b.Address), Listener("db", "p", """ "algorithm":"least_connection", """)));
        var port = await ListenerPortAsync(lb, "db");

        var held = new List<(Socket Socket, char Target)>();
        for (var i = 0; i < 4; i++)
        {
            var socket = await ConnectAsync(port);
            held.Add((socket, await GreetingAsync(socket)));
        }
        Assert.Equal(2, held.Count(h => h.Target == 'A'));
        // Close both long-lived connections on A: A has none open, B two; the next two must both go to A.
        foreach (var (socket, _) in held.Where(h => h.Target == 'A').ToList())
        {
            socket.Dispose();
            held.RemoveAll(h => h.Socket == socket);
        }
        await WaitUntilAsync(() => a.Open == 0);
        await WaitUntilAsync(async () => (await ListenerViewAsync(lb, "db")).GetProperty("open_connections").GetInt32() == 2);
        for (var i = 0; i < 2; i++)
        {
            var socket = await ConnectAsync(port);
            held.Add((socket, await GreetingAsync(socket)));
        }
        Assert.Equal(['B', 'B', 'A', 'A'], held.Select(h => h.Target));
        foreach (var (socket, _) in held)
        {
            socket.Dispose();
        }
    }

    [Fact]
    public async Task Idle_timeout_closes_the_client_and_the_target_side()
    {
        await using var backend = TcpEchoBackend.Start();
        await using var lb = await LbServer.StartAsync();
        await lb.PutConfigAsync(Config(Pool("p", backend.Address), Listener("idle", "p", """ "idle_timeout":"300ms", """)));
        var port = await ListenerPortAsync(lb, "idle");

        using var socket = await ConnectAsync(port);
        await socket.SendAsync("ping"u8.ToArray(), SocketFlags.None, Ct);
        var buffer = new byte[16];
        Assert.Equal(4, await socket.ReceiveAsync(buffer, SocketFlags.None, Ct));
        // Nothing more is sent: the relay closes both sides once the connection has been idle for 300ms.
        Assert.True(await ClosedAsync(socket), "the client side was not closed");
        await WaitUntilAsync(() => backend.Closed == 1);
    }

    [Fact]
    public async Task A_target_that_dies_mid_stream_closes_the_client_side_and_is_counted()
    {
        await using var backend = TcpEchoBackend.Start(resetAfter: 1000);
        await using var lb = await LbServer.StartAsync();
        await lb.PutConfigAsync(Config(Pool("p", backend.Address), Listener("die", "p")));
        var port = await ListenerPortAsync(lb, "die");

        using (var socket = await ConnectAsync(port))
        {
            await socket.SendAsync(new byte[1000], SocketFlags.None, Ct);
            // The client keeps its write side open: only the target's death can end this connection.
            Assert.True(await ClosedAsync(socket), "the client side stayed open after the target reset");
        }

        await WaitUntilAsync(async () => (await ListenerViewAsync(lb, "die")).GetProperty("failed_connections").GetInt64() == 1);
        var metrics = await lb.Admin.GetStringAsync("/metrics", Ct);
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("lb_tcp_failed_connections_total{listener=\"die\"} 1", StringComparison.Ordinal));
        // The node serves on: the next connection reaches the (restarted) target and is relayed as before.
        using var next = await ConnectAsync(port);
        await AssertEchoAsync(next, "after the reset");
    }

    [Fact]
    public async Task A_half_close_from_either_side_reaches_the_other_and_the_open_direction_keeps_flowing()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var reply = new byte[256 * 1024];
        new Random(18).NextBytes(reply);
        // The target writes its whole reply, shuts down its send side, and then reads what the client still sends.
        var target = Task.Run(async () =>
        {
            using var accepted = await listener.AcceptAsync(Ct);
            await accepted.SendAsync(reply, SocketFlags.None, Ct);
            accepted.Shutdown(SocketShutdown.Send);
            return await ReadToEndAsync(accepted);
        }, Ct);
        await using var lb = await LbServer.StartAsync();
        await lb.PutConfigAsync(Config(Pool("p", listener.LocalEndPoint!.ToString()!), Listener("half", "p")));
        var port = await ListenerPortAsync(lb, "half");

        using var socket = await ConnectAsync(port);
        // Target → client: every byte, then EOF, while the client has sent nothing and its side is still open.
        Assert.Equal(reply, await ReadToEndAsync(socket));
        Assert.False(target.IsCompleted, "the target saw its connection end although the client never closed");
        // Client → target still flows after the target's FIN; the client's own FIN then ends the target's read.
        var late = Encoding.ASCII.GetBytes("sent after the target's FIN");
        await socket.SendAsync(late, SocketFlags.None, Ct);
        socket.Shutdown(SocketShutdown.Send);
        Assert.Equal(late, await target.WaitAsync(TimeSpan.FromSeconds(20), Ct));
    }

    [Fact]
    public async Task A_connect_failure_is_retried_once_on_the_next_target()
    {
        // Bound but not listening: connecting to it is refused, and the port stays ours for the whole test.
        using var dead = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        dead.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await using var live = TcpEchoBackend.Start();
        await using var lb = await LbServer.StartAsync();
        var pool = Pool("p", dead.LocalEndPoint!.ToString()!, live.Address).Replace("]}", "],\"passive_health\":{\"consecutive_failures\":0}}", StringComparison.Ordinal);
        await lb.PutConfigAsync(Config(pool, Listener("retry", "p")));
        var port = await ListenerPortAsync(lb, "retry");

        for (var i = 0; i < 4; i++)
        {
            using var socket = await ConnectAsync(port);
            var reading = ReadToEndAsync(socket);
            await socket.SendAsync("hello"u8.ToArray(), SocketFlags.None, Ct);
            socket.Shutdown(SocketShutdown.Send);
            Assert.Equal("hello", Encoding.ASCII.GetString(await reading));
        }
        Assert.Equal(4, live.Accepted);
    }

    [Fact]
    public async Task A_target_that_does_not_answer_the_handshake_is_given_up_after_the_connect_timeout_and_the_next_one_serves()
    {
        // A listener whose accept queue is full drops new SYNs, so connecting to it hangs until someone gives up.
        using var stuck = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        stuck.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        stuck.Listen(1);
        var fillers = Enumerable.Range(0, 4).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)).ToList();
        var filling = fillers.Select(f => f.ConnectAsync(stuck.LocalEndPoint!, Ct).AsTask()).ToList();
        await Task.WhenAny(Task.WhenAll(filling), Task.Delay(500, Ct));
        try
        {
            await using var live = TcpEchoBackend.Start();
            await using var lb = await LbServer.StartAsync();
            var pool = Pool("p", stuck.LocalEndPoint!.ToString()!, live.Address).Replace("]}", "],\"passive_health\":{\"consecutive_failures\":0}}", StringComparison.Ordinal);
            await lb.PutConfigAsync(Config(pool, Listener("slow", "p", """ "connect_timeout":"300ms", """)));
            var port = await ListenerPortAsync(lb, "slow");

            // Without the connect timeout an attempt on the stuck target would hang for the kernel's SYN retries (minutes).
            await Task.Run(async () =>
            {
                for (var i = 0; i < 2; i++)
                {
                    using var socket = await ConnectAsync(port);
                    await AssertEchoAsync(socket, $"served {i}");
                }
            }, Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
            Assert.Equal(2, live.Accepted);
            // Round robin tried the stuck target at least once; each such attempt ended at the timeout and was counted.
            var metrics = await lb.Admin.GetStringAsync("/metrics", Ct);
            var failures = metrics.Split('\n').Single(l => l.StartsWith("lb_tcp_connect_failures_total{listener=\"slow\"} ", StringComparison.Ordinal));
            Assert.InRange(int.Parse(failures.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), 1, 2);
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public async Task A_tcp_connect_check_takes_a_target_out_before_any_client_connection_reaches_it()
    {
        using var dead = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        dead.Bind(new IPEndPoint(IPAddress.Loopback, 0)); // bound, never listening: every connect is refused
        await using var live = TcpEchoBackend.Start();
        await using var lb = await LbServer.StartAsync();
        var pool = Pool("p", dead.LocalEndPoint!.ToString()!, live.Address).Replace("]}",
            "],\"passive_health\":{\"consecutive_failures\":0},\"health_check\":{\"type\":\"tcp\",\"interval\":\"200ms\",\"timeout\":\"150ms\",\"fall\":1}}", StringComparison.Ordinal);
        await lb.PutConfigAsync(Config(pool, Listener("hc", "p")));
        var port = await ListenerPortAsync(lb, "hc");
        await WaitUntilAsync(async () => (await RuntimeAsync(lb)).GetProperty("upstreams").EnumerateArray()
            .Single(p => p.GetProperty("id").GetString() == "p").GetProperty("targets").EnumerateArray()
            .Any(t => t.GetProperty("address").GetString() == dead.LocalEndPoint!.ToString() && !t.GetProperty("healthy").GetBoolean()));

        for (var i = 0; i < 6; i++)
        {
            using var socket = await ConnectAsync(port);
            await AssertEchoAsync(socket, $"connection {i}");
        }
        // Round robin over two targets would have tried the dead one three times; the check kept it out of every pick.
        var metrics = await lb.Admin.GetStringAsync("/metrics", Ct);
        Assert.DoesNotContain("lb_tcp_connect_failures_total{listener=\"hc\"}", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_config_push_that_changes_another_listener_leaves_an_open_connection_intact()
    {
        await using var backend = TcpEchoBackend.Start();
        await using var other = TcpEchoBackend.Start();
        await using var lb = await LbServer.StartAsync();
        var pools = Pool("p", backend.Address) + "," + Pool("q", other.Address);
        await lb.PutConfigAsync(Config(pools, Listener("keep", "p") + "," + Listener("change", "p")));
        var port = await ListenerPortAsync(lb, "keep");
        using var socket = await ConnectAsync(port);
        await AssertEchoAsync(socket, "before");

        await lb.PutConfigAsync(Config(pools, Listener("keep", "p") + "," + Listener("change", "q", """ "algorithm":"source", """)));
        await WaitUntilAsync(async () => (await ListenerViewAsync(lb, "change")).GetProperty("upstream_pool").GetString() == "q");
        await AssertEchoAsync(socket, "after");
        Assert.Equal(port, await ListenerPortAsync(lb, "keep"));

        // Removing the listener stops new connections but lets the open one finish.
        await lb.PutConfigAsync(Config(pools, Listener("change", "q")));
        await WaitUntilAsync(async () => (await RuntimeAsync(lb)).GetProperty("tcp_listeners").GetArrayLength() == 1);
        await AssertEchoAsync(socket, "removed");
        await Assert.ThrowsAsync<SocketException>(async () => await ConnectAsync(port));
    }

    [Fact]
    public async Task A_port_in_use_is_reported_on_the_listener_and_the_node_serves_on()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        await using var backend = TcpEchoBackend.Start();
        await using var lb = await LbServer.StartAsync();
        await lb.PutConfigAsync(Config(Pool("p", backend.Address), Listener("busy", "p", listen: taken.LocalEndPoint!.ToString()!) + "," + Listener("ok", "p")));

        await WaitUntilAsync(async () => (await ListenerViewAsync(lb, "busy")).GetProperty("state").GetString() == "failed");
        var busy = await ListenerViewAsync(lb, "busy");
        Assert.Contains("cannot listen on", busy.GetProperty("error").GetString(), StringComparison.Ordinal);
        using var socket = await ConnectAsync(await ListenerPortAsync(lb, "ok"));
        await AssertEchoAsync(socket, "still serving");
    }

    [Fact]
    public async Task Invalid_tcp_listeners_are_rejected_with_field_paths_and_hints()
    {
        await using var lb = await LbServer.StartAsync();
        var body = Config(Pool("echo", "127.0.0.1:9"),
            """{"id":"a","enabled":true,"listen":"127.0.0.1:7000","upstream_pool":"ecko","algorithm":"leastconn","idle_timeout":"soon"},"""
            + """{"id":"a","enabled":true,"listen":"*:7000","upstream_pool":"echo","max_connections":0},"""
            + """{"id":"c","enabled":true,"listen":"db.internal:70000","upstream_pool":"echo"}""");
        using var response = await lb.Admin.PostAsync("/api/config/validate", new StringContent(body, Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var errors = document.RootElement.GetProperty("errors").EnumerateArray()
            .Select(e => (Field: e.GetProperty("field").GetString(), Code: e.GetProperty("code").GetString(), Hint: e.GetProperty("hint").GetString()))
            .ToList();
        Assert.Contains(errors, e => e is { Field: "tcp_listeners[0].upstream_pool", Code: "unknown_upstream_pool" } && e.Hint!.Contains("'echo'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e is { Field: "tcp_listeners[0].algorithm", Code: "unknown_algorithm" } && e.Hint!.Contains("'least_connection'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e is { Field: "tcp_listeners[0].idle_timeout", Code: "invalid_duration" });
        Assert.Contains(errors, e => e is { Field: "tcp_listeners[1].id", Code: "duplicate_tcp_listener_id" });
        Assert.Contains(errors, e => e is { Field: "tcp_listeners[1].listen", Code: "duplicate_listen_address" });
        Assert.Contains(errors, e => e is { Field: "tcp_listeners[1].max_connections", Code: "invalid_max_connections" });
        Assert.Contains(errors, e => e is { Field: "tcp_listeners[2].listen", Code: "invalid_listen_address" });
    }

    [Fact]
    public async Task Connections_over_max_connections_are_closed_at_once_and_counted()
    {
        await using var backend = TcpEchoBackend.Start();
        await using var lb = await LbServer.StartAsync();
        await lb.PutConfigAsync(Config(Pool("p", backend.Address), Listener("small", "p", """ "max_connections":2, """)));
        var port = await ListenerPortAsync(lb, "small");

        using var first = await ConnectAsync(port);
        using var second = await ConnectAsync(port);
        await AssertEchoAsync(first, "one");
        await AssertEchoAsync(second, "two");
        using var third = await ConnectAsync(port);
        Assert.True(await ClosedAsync(third), "the connection over the limit was not closed");
        Assert.Equal(1, (await ListenerViewAsync(lb, "small")).GetProperty("rejected_connections").GetInt64());
        await AssertEchoAsync(first, "still open");
        Assert.Equal(2, backend.Accepted);
    }

    [Fact]
    public async Task Source_keeps_a_client_address_on_one_target()
    {
        await using var a = TcpEchoBackend.Start(greeting: "A");
        await using var b = TcpEchoBackend.Start(greeting: "B");
        await using var lb = await LbServer.StartAsync();
        await lb.PutConfigAsync(Config(Pool("p", a.Address, b.Address), Listener("src", "p", """ "algorithm":"source", """)));
        var port = await ListenerPortAsync(lb, "src");

        var seen = new HashSet<char>();
        for (var i = 0; i < 6; i++)
        {
            using var socket = await ConnectAsync(port);
            seen.Add(await GreetingAsync(socket));
        }
        // Round robin would alternate; the client address (always 127.0.0.1 here) picks the same target every time.
        Assert.Single(seen);
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("v2")]
    public async Task Send_proxy_starts_each_target_connection_with_the_client_address(string version)
    {
        await using var backend = TcpEchoBackend.Start();
        await using var lb = await LbServer.StartAsync();
        await lb.PutConfigAsync(Config(Pool("p", backend.Address), Listener("pp", "p", $$""" "send_proxy":"{{version}}", """)));
        var port = await ListenerPortAsync(lb, "pp");

        using var socket = await ConnectAsync(port);
        var clientPort = ((IPEndPoint)socket.LocalEndPoint!).Port;
        var reading = ReadToEndAsync(socket);
        await socket.SendAsync("data"u8.ToArray(), SocketFlags.None, Ct);
        socket.Shutdown(SocketShutdown.Send);
        var echoed = await reading; // the echo backend returns the header it received, then the client's bytes

        byte[] header;
        if (version == "v1")
        {
            header = Encoding.ASCII.GetBytes($"PROXY TCP4 127.0.0.1 127.0.0.1 {clientPort} {port}\r\n");
        }
        else
        {
            header = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C,
                127, 0, 0, 1, 127, 0, 0, 1, (byte)(clientPort >> 8), (byte)clientPort, (byte)(port >> 8), (byte)port];
        }
        Assert.Equal([.. header, .. "data"u8.ToArray()], echoed);
    }

    private static string Pool(string id, params string[] upstreams) =>
        $"\"{id}\":{{\"upstreams\":[{string.Join(",", upstreams.Select(u => $"\"{u}\""))}]}}";

    private static string Listener(string id, string pool, string extra = "", string listen = "127.0.0.1:0") =>
        $"{{\"id\":\"{id}\",\"enabled\":true,\"listen\":\"{listen}\",{extra}\"upstream_pool\":\"{pool}\"}}";

    private static string Config(string pools, string listeners) =>
        $"{{\"routes\":[],\"upstream_pools\":{{{pools}}},\"tcp_listeners\":[{listeners}]}}";

    private static async Task<JsonElement> RuntimeAsync(LbServer lb)
    {
        var json = await lb.Admin.GetStringAsync("/api/runtime", Ct);
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    private static async Task<JsonElement> ListenerViewAsync(LbServer lb, string id)
    {
        var runtime = await RuntimeAsync(lb);
        return runtime.TryGetProperty("tcp_listeners", out var list)
            ? list.EnumerateArray().FirstOrDefault(l => l.GetProperty("id").GetString() == id)
            : default;
    }

    /// <summary>The port the listener bound (the manager binds right after the snapshot is published).</summary>
    private static async Task<int> ListenerPortAsync(LbServer lb, string id)
    {
        var port = 0;
        await WaitUntilAsync(async () =>
        {
            var view = await ListenerViewAsync(lb, id);
            port = view.ValueKind == JsonValueKind.Object && view.GetProperty("state").GetString() == "listening" ? view.GetProperty("port").GetInt32() : 0;
            return port != 0;
        });
        return port;
    }

    private static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), Ct);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        using var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, Ct)) > 0)
        {
            received.Write(buffer, 0, read);
        }
        return received.ToArray();
    }

    private static async Task<char> GreetingAsync(Socket socket)
    {
        var buffer = new byte[1];
        Assert.Equal(1, await socket.ReceiveAsync(buffer, SocketFlags.None, Ct));
        return (char)buffer[0];
    }

    private static async Task AssertEchoAsync(Socket socket, string text)
    {
        var sent = Encoding.ASCII.GetBytes(text);
        await socket.SendAsync(sent, SocketFlags.None, Ct);
        var received = new byte[sent.Length];
        var total = 0;
        while (total < sent.Length)
        {
            var read = await socket.ReceiveAsync(received.AsMemory(total), SocketFlags.None, Ct);
            Assert.NotEqual(0, read);
            total += read;
        }
        Assert.Equal(text, Encoding.ASCII.GetString(received));
    }

    /// <summary>True when the peer closed the connection (FIN or reset) before the test's own deadline.</summary>
    private static async Task<bool> ClosedAsync(Socket socket)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(20));
        var buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token) > 0)
            {
            }
            return true;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            return false;
        }
    }

    private static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(20));
        while (!await condition())
        {
            await Task.Delay(20, deadline.Token);
        }
    }
}
