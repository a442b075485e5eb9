using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Lb.AspNetCore.Diagnostics;
using Lb.AspNetCore.FastPath;
using Lb.AspNetCore.Options;
using Lb.AspNetCore.Runtime;
using Lb.Balancing;
using Lb.Core.Options;
using Lb.Core.Spec;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Lb.AspNetCore.Proxy;

/// <summary>
/// Sends two requests through the proxy's own code (route match, balancer pick, YARP forwarder, a pooled
/// <c>SocketsHttpHandler</c>, the header transforms) to a throwaway upstream on a loopback port, once, right after the
/// host has started. Why: a cluster node that never served a request (a follower) would otherwise JIT-compile that
/// path on its first proxied request after taking over the VIP, which measured 150–230 ms on a busy host and was the
/// last phase of every failover (docs/benchmarks.md). With the connection-level fast path on (HTTP/1.x), two more
/// requests go through its connection code over an in-memory connection (see <see cref="WarmFastPathAsync"/>).
/// Nothing observable is shared: the requests use their own route table, fast-path table, upstream registry,
/// connection pools and meter (so no /metrics series and no access-log line), and never reach a configured backend.
/// </summary>
internal sealed partial class ProxyWarmup(
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    ILogger<ProxyWarmup> logger) : IHostedService, IDisposable
{
    private const string WarmupHost = "lb-warmup.invalid";
    private static readonly TimeSpan StartDelay = TimeSpan.FromSeconds(1);
    private static readonly byte[] WarmupRequest = Encoding.ASCII.GetBytes($"GET / HTTP/1.1\r\nHost: {WarmupHost}\r\n\r\n");
    private static readonly byte[] UpstreamAnswer = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok");

    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<int> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenRegistration _started;

    /// <summary>Completes with the status of the forwarder's last warm-up request (0 when it could not run).</summary>
    public Task<int> Completion => _done.Task;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // After start, in the background: the listeners are up and nothing waits for this.
        var stop = _stop.Token;
        _started = lifetime.ApplicationStarted.Register(() => _ = Task.Run(() => RunAsync(stop)));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        _started.Dispose();
    }

    public void Dispose()
    {
        _started.Dispose();
        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var status = 0;
        var started = Stopwatch.GetTimestamp();
        try
        {
            // Let the start-up burst (the first admin requests, cluster formation) have the CPU first.
            await Task.Delay(StartDelay, stop);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            (status, var fast) = await WarmAsync(timeout.Token);
            LogWarmed(logger, status, fast, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // The host is stopping: nothing to warm up for.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Only a missed optimisation: the first real request compiles the path instead.
            LogFailed(logger, ex);
        }
        finally
        {
            _done.TrySetResult(status);
        }
    }

    private async Task<(int Forwarder, int FastPath)> WarmAsync(CancellationToken cancellationToken)
    {
        using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        upstream.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        upstream.Listen(4);
        var port = ((IPEndPoint)upstream.LocalEndPoint!).Port;
        using var serveStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var serving = ServeAsync(upstream, serveStop.Token);
        try
        {
            return await WarmThroughAsync(port, cancellationToken);
        }
        finally
        {
            // Close the upstream's side of every connection too: a pooled client connection would otherwise keep its
            // answering task (and the warm-up) waiting until the timeout.
            await serveStop.CancelAsync();
            upstream.Close();
            await serving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task<(int Forwarder, int FastPath)> WarmThroughAsync(int port, CancellationToken cancellationToken)
    {
        var config = new ProxyConfig
        {
            Routes = [new RouteSpec { Id = "lb-warmup", Enabled = true, Match = new RouteMatchSpec { Hosts = [WarmupHost] }, UpstreamPool = "lb-warmup" }],
            UpstreamPools = new SortedDictionary<string, UpstreamPoolSpec>(StringComparer.Ordinal)
            {
                ["lb-warmup"] = new UpstreamPoolSpec { Upstreams = [new UpstreamSpec($"127.0.0.1:{port}")] },
            },
        };
        var live = services.GetRequiredService<IOptions<ProxyOptions>>().Value;
        // The live switches that pick code paths; never the access log.
        var options = Microsoft.Extensions.Options.Options.Create(new ProxyOptions { InlineIo = live.InlineIo });
        await using var registry = new UpstreamRegistry(services.GetRequiredService<IHttpClientFactory>(), TimeProvider.System, NullLogger<UpstreamRegistry>.Instance);
        var snapshot = new RuntimeSnapshotBuilder(registry, services.GetRequiredService<LoadBalancingPolicies>())
            .Build(new VersionedDesiredState(0, new DesiredState { Config = config }, DateTimeOffset.UtcNow));
        using var table = new HttpForwardingTable(TimeProvider.System);
        table.Prepare(snapshot)();
        using var meters = new PrivateMeterFactory();
        var metrics = new ProxyMetrics(meters, services.GetRequiredService<RuntimeManager>());
        await using var handler = new ProxyHandler(
            table,
            services.GetRequiredService<IHttpForwarder>(),
            services.GetRequiredService<ClientAddressResolver>(),
            metrics,
            services.GetRequiredService<IOptions<LbNodeOptions>>(),
            options,
            NullLoggerFactory.Instance);

        // Two requests: the first opens the upstream connection, the second takes it from the pool.
        var status = 0;
        for (var i = 0; i < 2; i++)
        {
            var context = new DefaultHttpContext();
            context.Request.Method = HttpMethods.Get;
            context.Request.Scheme = "http";
            context.Request.Host = new HostString(WarmupHost);
            context.Request.Path = "/";
            context.Request.Protocol = "HTTP/1.1";
            context.Connection.RemoteIpAddress = IPAddress.Loopback;
            context.Response.Body = Stream.Null;
            context.RequestAborted = cancellationToken;
            await handler.InvokeAsync(context);
            status = context.Response.StatusCode;
        }

        // HTTP/2 keeps using the path above; HTTP/1.x goes through the connection-level proxy when it is on.
        var fast = live.FastPath ? await WarmFastPathAsync(snapshot, metrics, handler, options, cancellationToken) : 0;
        return (status, fast);
    }

    /// <summary>
    /// Two keep-alive requests on one connection through the fast path's own connection code (the delegate
    /// <c>UseLoadBalancerProxy()</c> puts on a listener, so the HTTP/2 preface check, head parse, route match, pick,
    /// pooled upstream connection, response copy and keep-alive all run) over an in-memory duplex pipe instead of a
    /// socket: no listener to open, nothing a client could reach, and its own fast-path table and heartbeat, disposed after.
    /// </summary>
    private async Task<int> WarmFastPathAsync(RuntimeSnapshot snapshot, ProxyMetrics metrics, ProxyHandler handler, IOptions<ProxyOptions> options, CancellationToken cancellationToken)
    {
        using var table = new FastPathTable(TimeProvider.System, options);
        table.Prepare(snapshot)();
        using var proxy = new FastPathProxy(
            table,
            services.GetRequiredService<ClientAddressResolver>(),
            metrics,
            handler,
            services.GetRequiredService<IOptions<LbNodeOptions>>(),
            options,
            TimeProvider.System,
            NullLoggerFactory.Instance);
        var serve = proxy.Wrap(static _ => throw new InvalidOperationException("The fast-path warm-up sent an HTTP/2 connection on."), kestrel: null);

        var toProxy = new Pipe();
        var fromProxy = new Pipe();
        var connection = new DefaultConnectionContext("lb-warmup", new DuplexPipe(toProxy.Reader, fromProxy.Writer), new DuplexPipe(fromProxy.Reader, toProxy.Writer))
        {
            RemoteEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        };
        var serving = serve(connection);
        var status = 0;
        try
        {
            for (var i = 0; i < 2; i++)
            {
                await toProxy.Writer.WriteAsync(WarmupRequest, cancellationToken);
                status = await ReadResponseAsync(fromProxy.Reader, cancellationToken);
            }
        }
        finally
        {
            // The client hangs up: the connection ends as a real one does, then its pipes are closed.
            await toProxy.Writer.CompleteAsync();
            await serving.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await fromProxy.Writer.CompleteAsync();
            await fromProxy.Reader.CompleteAsync();
            await toProxy.Reader.CompleteAsync();
        }
        return status;
    }

    /// <summary>Reads one response (a head and a Content-Length body) and returns its status; 0 when none came.</summary>
    private static async Task<int> ReadResponseAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var text = Encoding.ASCII.GetString(buffer.Slice(0, Math.Min(buffer.Length, 16 * 1024)));
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0 && text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal)
                && int.TryParse(text.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var status))
            {
                var length = ContentLength(text.AsSpan(0, end));
                if (buffer.Length >= end + 4 + length)
                {
                    reader.AdvanceTo(buffer.GetPosition(end + 4 + length));
                    return status;
                }
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return 0;
            }
        }
    }

    private static int ContentLength(ReadOnlySpan<char> head)
    {
        foreach (var range in head.Split("\r\n"))
        {
            var line = head[range];
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                return int.Parse(line["Content-Length:".Length..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
            }
        }
        return 0;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>The throwaway upstream: answers every request on every connection with a fixed 200.</summary>
    private static async Task ServeAsync(Socket listener, CancellationToken cancellationToken)
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var connection = await listener.AcceptAsync(cancellationToken);
                connections.Add(AnswerAsync(connection, cancellationToken));
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The warm-up is over (listener closed) or cancelled.
        }
        await Task.WhenAll(connections).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private static async Task AnswerAsync(Socket connection, CancellationToken cancellationToken)
    {
        using var _ = connection;
        var buffer = new byte[4096];
        var filled = 0;
        while (true)
        {
            var read = await connection.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                return;
            }
            filled += read;
            // A request without a body ends at the blank line; answer each one, keep the connection for the next.
            int end;
            while ((end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) >= 0)
            {
                await connection.SendAsync(UpstreamAnswer, SocketFlags.None, cancellationToken);
                var rest = filled - (end + 4);
                buffer.AsSpan(end + 4, rest).CopyTo(buffer);
                filled = rest;
            }
            if (filled == buffer.Length)
            {
                return; // not a request this upstream understands
            }
        }
    }

    /// <summary>Meters nobody exports: the Prometheus exporter only reads the host's own meter factory.</summary>
    private sealed class PrivateMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
            lock (_meters)
            {
                _meters.Add(meter);
            }
            return meter;
        }

        public void Dispose()
        {
            lock (_meters)
            {
                foreach (var meter in _meters)
                {
                    meter.Dispose();
                }
                _meters.Clear();
            }
        }
    }

    [LoggerMessage(EventId = 6160, Level = LogLevel.Debug, Message = "Proxy path warmed up (status {Status}; fast path status {FastPathStatus}, 0 when off) in {ElapsedMs:F0} ms")]
    private static partial void LogWarmed(ILogger logger, int status, int fastPathStatus, double elapsedMs);

    [LoggerMessage(EventId = 6161, Level = LogLevel.Warning, Message = "Proxy warm-up failed; the first proxied request compiles the path instead")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
