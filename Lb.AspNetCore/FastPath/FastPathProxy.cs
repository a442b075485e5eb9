using System.Buffers;
using System.Net;
using System.Text;
using Lb.AspNetCore.Diagnostics;
using Lb.AspNetCore.Options;
using Lb.AspNetCore.Proxy;
using Lb.Core.Options;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lb.AspNetCore.FastPath;

/// <summary>
/// The connection-level HTTP/1.1 proxy (issue #16): Kestrel connection middleware that serves HTTP/1.x connections of
/// the proxy listener itself and hands HTTP/2 (ALPN <c>h2</c> or the cleartext preface) to Kestrel's HTTP pipeline.
/// Shared state (limits, pre-encoded header bytes, the heartbeat that enforces timeouts) lives here; each
/// connection's state lives in a <see cref="FastConnection"/>.
/// </summary>
internal sealed partial class FastPathProxy : IDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);

    private readonly HashSet<FastConnection> _live = [];
    private readonly Lock _gate = new();
    private readonly ITimer _heartbeat;
    private FastConnection[] _scan = [];

    public FastPathProxy(
        FastPathTable table,
        ClientAddressResolver clients,
        ProxyMetrics metrics,
        ProxyHandler handler,
        IOptions<LbNodeOptions> node,
        IOptions<ProxyOptions> proxy,
        TimeProvider time,
        ILoggerFactory loggers)
    {
        Table = table;
        Clients = clients;
        Metrics = metrics;
        Enabled = proxy.Value.FastPath;
        InlineIo = proxy.Value.InlineIo;
        AccessLog = handler.TextAccessLog;
        JsonLog = handler.JsonAccessLog;
        var nodeId = node.Value.NodeId;
        var nodeHeader = node.Value.NodeHeader.Length > 0 ? node.Value.NodeHeader : LbNodeOptions.DefaultNodeHeader;
        NodeHeaderName = Encoding.ASCII.GetBytes(nodeHeader);
        NodeHeaderLine = nodeId.Length > 0 ? Encoding.UTF8.GetBytes($"{nodeHeader}: {nodeId}\r\n") : [];
        Logger = loggers.CreateLogger("Lb.FastPath");
        _heartbeat = time.CreateTimer(_ => Beat(), null, Tick, Tick);
    }

    public bool Enabled { get; }

    /// <summary>Client and upstream sockets of fast-path connections complete inline (<see cref="ProxyOptions.InlineIo"/>).</summary>
    public bool InlineIo { get; }

    public FastPathTable Table { get; }

    public ClientAddressResolver Clients { get; }

    public ProxyMetrics Metrics { get; }

    public ILogger? AccessLog { get; }

    public JsonAccessLog? JsonLog { get; }

    public ILogger Logger { get; }

    /// <summary>The node header's name, to drop a client's copy of it.</summary>
    public byte[] NodeHeaderName { get; }

    /// <summary><c>X-Lb-Node: id</c> with its CRLF; empty without a node id.</summary>
    public byte[] NodeHeaderLine { get; }

    /// <summary>Request-line, header and timing limits: Kestrel's own (the same the ASP.NET Core path obeys), read once.</summary>
    internal FastLimits Limits { get; private set; } = FastLimits.Default;

    /// <summary>Builds the middleware for one listener; with the switch off it is the next middleware itself.</summary>
    public ConnectionDelegate Wrap(ConnectionDelegate next, KestrelServerOptions? kestrel)
    {
        if (!Enabled)
        {
            return next;
        }
        if (kestrel is not null)
        {
            Limits = FastLimits.From(kestrel.Limits);
        }
        return connection => ServeAsync(connection, next);
    }

    private async Task ServeAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var tls = connection.Features.Get<ITlsHandshakeFeature>() is not null;
        var alpn = connection.Features.Get<ITlsApplicationProtocolFeature>();
        if (alpn is not null && alpn.ApplicationProtocol.Span.SequenceEqual("h2"u8))
        {
            await next(connection).ConfigureAwait(false);
            return;
        }
        if (!tls && await StartsWithHttp2PrefaceAsync(connection).ConfigureAwait(false))
        {
            if (connection.Features.Get<Loop.IIoLoopFeature>()?.HandOff() == true)
            {
                return; // the I/O loop ran this middleware itself: Kestrel's HTTP server gets the connection from its accept loop
            }
            await next(connection).ConfigureAwait(false);
            return;
        }
        if (InlineIo && connection.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
        {
            // HTTP/1.x only: HTTP/2 connections run Kestrel's and the forwarder's code, which this path does not vouch for.
            InlineCompletions.TryEnable(socket);
        }
        if (connection.Features.Get<Loop.IIoLoopFeature>() is { } onLoop)
        {
            // Kestrel starts every connection on the thread pool: the proxy runs on the connection's loop, where its
            // reads complete and its upstream connections live.
            await onLoop.Loop.SwitchTo();
        }
        var fast = new FastConnection(this, connection, tls);
        lock (_gate)
        {
            _live.Add(fast);
        }
        try
        {
            await fast.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                _live.Remove(fast);
            }
        }
    }

    private static async ValueTask<bool> StartsWithHttp2PrefaceAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        while (true)
        {
            var result = await input.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            var matches = MatchesPreface(buffer, out var n);
            const int prefaceLength = 14;
            // Nothing consumed: whoever serves the connection reads the same bytes again.
            input.AdvanceTo(buffer.Start, matches && n < prefaceLength && !result.IsCompleted ? buffer.End : buffer.Start);
            if (!matches || n == prefaceLength || result.IsCompleted)
            {
                return matches && n == prefaceLength;
            }
        }
    }

    private static bool MatchesPreface(in ReadOnlySequence<byte> buffer, out int n)
    {
        var preface = "PRI * HTTP/2.0"u8;
        n = (int)Math.Min(buffer.Length, preface.Length);
        Span<byte> head = stackalloc byte[preface.Length];
        buffer.Slice(0, n).CopyTo(head);
        return head[..n].SequenceEqual(preface[..n]);
    }

    private void Beat()
    {
        FastConnection[] scan;
        int count;
        lock (_gate)
        {
            count = _live.Count;
            if (_scan.Length < count)
            {
                _scan = new FastConnection[Math.Max(count, _scan.Length * 2)];
            }
            _live.CopyTo(_scan);
            scan = _scan;
        }
        var now = Environment.TickCount64;
        for (var i = 0; i < count; i++)
        {
            scan[i].OnHeartbeat(now);
        }
        Array.Clear(scan, 0, count);
    }

    public void Dispose() => _heartbeat.Dispose();

    private const int MaxKeptBuffers = 256;
    private readonly Stack<ConnectionBuffers> _buffers = new();

    /// <summary>Buffers for a new connection, reused from a closed one when there is one.</summary>
    internal ConnectionBuffers RentBuffers()
    {
        lock (_gate)
        {
            while (_buffers.TryPop(out var buffers))
            {
                if (ReferenceEquals(buffers.Limits, Limits))
                {
                    return buffers;
                }
            }
        }
        return new ConnectionBuffers(Limits);
    }

    internal void ReturnBuffers(ConnectionBuffers buffers)
    {
        lock (_gate)
        {
            if (_buffers.Count < MaxKeptBuffers)
            {
                _buffers.Push(buffers);
            }
        }
    }

    [LoggerMessage(EventId = 6150, Level = LogLevel.Debug, Message = "Fast path connection {ConnectionId} ended by an unexpected error")]
    internal static partial void LogConnectionFailed(ILogger logger, Exception exception, string connectionId);
}

/// <summary>Limits of the fast path, from Kestrel's <see cref="KestrelServerLimits"/> (defaults: Kestrel's).</summary>
internal sealed record FastLimits(
    int MaxRequestLine,
    int MaxRequestHeadersTotal,
    int MaxRequestHeaderCount,
    long? MaxRequestBodySize,
    TimeSpan RequestHeadersTimeout,
    TimeSpan KeepAliveTimeout,
    double MinBodyBytesPerSecond,
    TimeSpan MinBodyGrace,
    double MinResponseBytesPerSecond,
    TimeSpan MinResponseGrace)
{
    public static FastLimits Default { get; } = From(new KestrelServerLimits());

    public static FastLimits From(KestrelServerLimits limits) => new(
        limits.MaxRequestLineSize,
        limits.MaxRequestHeadersTotalSize,
        limits.MaxRequestHeaderCount,
        limits.MaxRequestBodySize,
        limits.RequestHeadersTimeout,
        limits.KeepAliveTimeout,
        limits.MinRequestBodyDataRate?.BytesPerSecond ?? 0,
        limits.MinRequestBodyDataRate?.GracePeriod ?? TimeSpan.Zero,
        limits.MinResponseDataRate?.BytesPerSecond ?? 0,
        limits.MinResponseDataRate?.GracePeriod ?? TimeSpan.Zero);
}

/// <summary>Addresses of a connection, formatted once.</summary>
internal static class PeerFormat
{
    public static byte[] Utf8(IPAddress? address)
    {
        if (address is null)
        {
            return [];
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        return Encoding.ASCII.GetBytes(address.ToString());
    }
}
