using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lb.TestSupport;

/// <summary>
/// A real Kestrel backend on 127.0.0.1 (port chosen by the OS) implementing the reference's test-backend contract
/// (<c>/health</c>, <c>/api/info</c>) plus endpoints the proxy tests need. Health status and delay can be flipped
/// while it runs.
/// </summary>
public sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;
    private int _held;
    private int _connections;
    private TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TestBackend(WebApplication app, string name)
    {
        _app = app;
        Name = name;
    }

    public string Name { get; }

    /// <summary><c>127.0.0.1:port</c>, the form an upstream is configured with.</summary>
    public string Address { get; private set; } = "";

    public int Port { get; private set; }

    /// <summary>What <c>/health</c> answers.</summary>
    public int HealthStatus { get; set; } = 200;

    /// <summary>Delay before <c>/api/info</c> answers.</summary>
    public int SleepMs { get; set; }

    /// <summary>Requests served, health checks excluded.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>TCP connections currently open to this backend (health checks included).</summary>
    public int OpenConnections => Volatile.Read(ref _connections);

    /// <summary>Requests to <c>/hold</c> that are waiting for <see cref="ReleaseHeld"/>.</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>Lets every request waiting in <c>/hold</c> answer; later ones wait again.</summary>
    public void ReleaseHeld() => Interlocked.Exchange(ref _release, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Waits until <paramref name="count"/> requests are held in <c>/hold</c>, so a test knows they are in flight.</summary>
    public async Task WaitForHeldAsync(int count = 1)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Held < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Name}: {Held} of {count} requests arrived in /hold within 30 s");
            }
            await Task.Delay(10);
        }
    }

    /// <summary>Headers of the last proxied request, health checks excluded.</summary>
    public IHeaderDictionary? LastHeaders { get; private set; }

    /// <summary>Starts a backend; <paramref name="port"/> 0 lets the OS choose.</summary>
    public static async Task<TestBackend> StartAsync(string name, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        TestBackend? backend = null;
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, port, listen => listen.Use(next => async connection =>
            {
                Interlocked.Increment(ref backend!._connections);
                try
                {
                    await next(connection);
                }
                finally
                {
                    Interlocked.Decrement(ref backend._connections);
                }
            }));
            k.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        backend = new TestBackend(app, name);
        app.UseWebSockets();
        app.Use(async (ctx, next) =>
        {
            if (ctx.Request.Path != "/health")
            {
                Interlocked.Increment(ref backend._requests);
                backend.LastHeaders = new HeaderDictionary(ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value));
            }
            ctx.Response.Headers["X-Backend"] = name;
            await next(ctx);
        });
        app.MapGet("/health", (HttpContext ctx) =>
        {
            ctx.Response.StatusCode = backend.HealthStatus;
            return ctx.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["ok"] = backend.HealthStatus is >= 200 and < 300,
                ["server"] = name,
                ["health_status"] = backend.HealthStatus,
            }));
        });
        app.Map("/api/info", async (HttpContext ctx) =>
        {
            if (backend.SleepMs > 0)
            {
                await Task.Delay(backend.SleepMs, ctx.RequestAborted);
            }
            var info = new Dictionary<string, object> { ["server"] = name, ["port"] = backend.Port };
            if (ctx.Request.Headers.TryGetValue("X-Lb-Node", out var node))
            {
                info["lb_node"] = node.ToString();
            }
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(JsonSerializer.Serialize(info));
        });
        app.Map("/hold", async (HttpContext ctx) =>
        {
            var release = Volatile.Read(ref backend._release).Task;
            Interlocked.Increment(ref backend._held);
            try
            {
                await release.WaitAsync(ctx.RequestAborted);
            }
            finally
            {
                Interlocked.Decrement(ref backend._held);
            }
            await ctx.Response.WriteAsync(name);
        });
        app.MapGet("/moved", () => Results.Redirect("/health"));
        // An application that opens a session: what cookie persistence in prefix and rewrite mode works on.
        app.MapGet("/session", (HttpContext ctx) =>
        {
            ctx.Response.Headers.Append("Set-Cookie", $"JSESSIONID={name}-s1; Path=/");
            ctx.Response.Headers.Append("Set-Cookie", "SERVERID=; Path=/");
            return ctx.Response.WriteAsync(name);
        });
        app.Map("/status/{code:int}", (HttpContext ctx, int code) => { ctx.Response.StatusCode = code; return ctx.Response.WriteAsync(name); });
        app.Map("/sleep/{ms:int}", async (HttpContext ctx, int ms) =>
        {
            await Task.Delay(ms, ctx.RequestAborted);
            await ctx.Response.WriteAsync(name);
        });
        app.MapPost("/count", async (HttpContext ctx) =>
        {
            // Counts the body without keeping it, so a large upload costs no memory here either.
            var buffer = new byte[81920];
            long total = 0;
            int read;
            while ((read = await ctx.Request.Body.ReadAsync(buffer, ctx.RequestAborted)) > 0)
            {
                total += read;
            }
            await ctx.Response.WriteAsync(total.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });
        app.MapGet("/bytes/{count:long}", async (HttpContext ctx, long count) =>
        {
            ctx.Response.ContentType = "application/octet-stream";
            var chunk = new byte[64 * 1024];
            for (long sent = 0; sent < count; sent += chunk.Length)
            {
                await ctx.Response.Body.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, count - sent)), ctx.RequestAborted);
            }
        });
        app.Map("/ws", async (HttpContext ctx) =>
        {
            if (!ctx.WebSockets.IsWebSocketRequest)
            {
                ctx.Response.StatusCode = 400;
                return;
            }
            using var socket = await ctx.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[4096];
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, ctx.RequestAborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, ctx.RequestAborted);
                    return;
                }
                await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, ctx.RequestAborted);
            }
        });
        app.MapFallback((HttpContext ctx) => ctx.Response.WriteAsync($"{name} {ctx.Request.Path}"));

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        backend.Port = new Uri(address).Port;
        backend.Address = $"127.0.0.1:{backend.Port}";
        // Warm up so that a first health probe with a short timeout is not judged on JIT time.
        using var client = new HttpClient();
        (await client.GetAsync(new Uri($"http://{backend.Address}/health"))).Dispose();
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        ReleaseHeld();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>
/// A loopback port that refuses connections for as long as this object lives: the socket is bound (so nobody else can
/// take the port) but never listens, so a connection attempt is answered with a reset.
/// </summary>
public sealed class RefusingPort : IDisposable
{
    private readonly System.Net.Sockets.Socket _socket = new(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);

    public RefusingPort()
        : this(0)
    {
    }

    /// <summary>
    /// Holds <paramref name="port"/> (0: one the kernel picks) so connections to it are refused and nothing else
    /// started meanwhile (another test's backend on port 0) is given it; a backend may bind it again after Dispose.
    /// </summary>
    public RefusingPort(int port)
    {
        _socket.SetSocketOption(System.Net.Sockets.SocketOptionLevel.Socket, System.Net.Sockets.SocketOptionName.ReuseAddress, true);
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
    }

    public int Port { get; }

    /// <summary><c>127.0.0.1:port</c>, the form an upstream is configured with.</summary>
    public string Address => $"127.0.0.1:{Port}";

    public void Dispose() => _socket.Dispose();
}
