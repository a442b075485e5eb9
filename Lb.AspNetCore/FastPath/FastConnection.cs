using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;
using Lb.AspNetCore.Proxy;
using Lb.AspNetCore.Runtime;
using Lb.Balancing;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Lb.AspNetCore.FastPath;

/// <summary>
/// One client connection of the connection-level proxy: reads request heads, picks a target, forwards over a pooled
/// upstream connection and copies the response back, one request at a time (pipelined requests wait in the input
/// pipe, so they are answered in order). Buffers are rented per connection; a request allocates nothing.
/// </summary>
internal sealed partial class FastConnection
{
    internal const int MaxResponseHead = 64 * 1024;

    private readonly FastPathProxy _proxy;
    private readonly ConnectionContext _connection;
    private readonly PipeReader _in;
    private readonly PipeWriter _out;
    private readonly bool _tls;
    private readonly FastLimits _limits;
    private readonly ConnectionBuffers _buffers;
    private readonly HttpHead _req;
    private readonly HttpHead _res;
    private readonly char[] _chars;
    private readonly byte[] _pathBytes;
    private readonly byte[] _peer;
    private readonly IPEndPoint? _remote;
    private readonly IPEndPoint? _local;

    // Deadlines (Environment.TickCount64 ms, 0 = none), enforced by the proxy's heartbeat.
    private long _clientDeadline;
    private long _upstreamDeadline;
    private long _writeDeadline;
    private long _tunnelDeadline;
    private long _tunnelIdleMs;
    private volatile bool _clientTimedOut;
    private volatile bool _upstreamTimedOut;
    private volatile bool _closeRequested;
    private volatile bool _abandonBody;
    private volatile UpstreamConnection? _upstream;
    private volatile bool _idle;

    // Per request.
    private long _bodyBytes;
    private long _bodyWaitedMs;
    private int _status;
    private int _upstreamStatus;
    private long _sentAt;
    private long _headersAt;
    private long _endedAt;
    private long _connectTicks; // Stopwatch ticks the last new upstream connection took to open; -1 when none was opened
    private long _bytesOut; // the forwarded response's Content-Length; -1 when not known

    // Per request, from the route (limits.md): its timeouts and body limit.
    private TimeSpan _responseTimeout;
    private TimeSpan _connectTimeout;
    private long _clientIdleMs;
    private long? _maxBody;
    private long _responseBytes;

    public FastConnection(FastPathProxy proxy, ConnectionContext connection, bool tls)
    {
        _proxy = proxy;
        _connection = connection;
        _in = connection.Transport.Input;
        _out = connection.Transport.Output;
        _tls = tls;
        _limits = proxy.Limits;
        _buffers = proxy.RentBuffers();
        _req = _buffers.Request;
        _res = _buffers.Response;
        _chars = _buffers.Chars;
        _pathBytes = _buffers.PathBytes;
        _remote = connection.RemoteEndPoint as IPEndPoint;
        _local = connection.LocalEndPoint as IPEndPoint;
        _peer = PeerFormat.Utf8(_remote?.Address);
    }

    private const int NotRead = int.MinValue;

    /// <summary>
    /// The connection's one long-lived async method. The common exchange (a request without a body on a pooled
    /// upstream connection, answered with a Content-Length or empty body) runs inline here, so its awaits reuse this
    /// method's state machine and a request allocates nothing; everything else goes through the general helpers.
    /// </summary>
    public async Task RunAsync()
    {
        using var closing = (_connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default).Register(static state =>
        {
            var self = (FastConnection)state!;
            self._closeRequested = true;
            if (self._idle)
            {
                self._in.CancelPendingRead();
            }
        }, this);
        try
        {
            var first = true;
            while (!_closeRequested)
            {
                // ---- the request head ----
                var length = 0;
                var headStarted = false;
                _clientTimedOut = false;
                Volatile.Write(ref _clientDeadline, After(first ? _limits.RequestHeadersTimeout : _limits.KeepAliveTimeout));
                while (length == 0)
                {
                    _idle = !headStarted;
                    if (_idle && _closeRequested)
                    {
                        break;
                    }
                    var result = await _in.ReadAsync().ConfigureAwait(false);
                    _idle = false;
                    var buffer = result.Buffer;
                    if (result.IsCanceled)
                    {
                        _in.AdvanceTo(buffer.Start, buffer.End);
                        if (_clientTimedOut || (_closeRequested && buffer.IsEmpty))
                        {
                            break; // Kestrel closes a connection whose head did not arrive in time the same way
                        }
                        continue;
                    }
                    if (!buffer.IsEmpty && !headStarted)
                    {
                        headStarted = true;
                        if (!first)
                        {
                            Volatile.Write(ref _clientDeadline, After(_limits.RequestHeadersTimeout));
                        }
                    }
                    length = ScanRequestHead(buffer, result.IsCompleted, out var consumed);
                    if (length > 0)
                    {
                        _in.AdvanceTo(consumed);
                    }
                    else
                    {
                        _in.AdvanceTo(buffer.Start, buffer.End);
                        if (length < 0 || result.IsCompleted)
                        {
                            break;
                        }
                    }
                }
                Volatile.Write(ref _clientDeadline, 0);
                _idle = false;
                first = false;
                if (length <= 0)
                {
                    if (length < 0)
                    {
                        await WriteBadRequestAsync(-length).ConfigureAwait(false);
                    }
                    break;
                }
                var status = _req.ParseRequest(length, _limits.MaxRequestLine, _limits.MaxRequestHeadersTotal, _proxy.NodeHeaderName);
                if (status != 0)
                {
                    await WriteBadRequestAsync(status).ConfigureAwait(false);
                    break;
                }

                // ---- route and pick ----
                var started = _proxy.AccessLog is null && _proxy.JsonLog is null ? _proxy.Metrics.Start() : Stopwatch.GetTimestamp();
                _status = 0;
                _sentAt = _headersAt = _endedAt = 0;
                _connectTicks = -1;
                _bytesOut = -1;
                var runtime = _proxy.Table.Current;
                var decision = Route(runtime, out var rt, out var pickContext, out var pick);
                if (decision == Decision.Queue)
                {
                    (decision, pick) = await WaitInQueueAsync(rt!, pickContext).ConfigureAwait(false);
                }
                var routeId = rt?.Route.Id;
                UpstreamTarget? target = null;
                var logging = _proxy.AccessLog is not null || _proxy.JsonLog is not null;
                var ended = 0L; // the inline exchange's end, which the request's metric reuses (one clock read fewer)
                bool keep;
                try
                {
                    if (decision != Decision.Forward)
                    {
                        keep = await AnswerAsync(decision).ConfigureAwait(false);
                    }
                    else
                    {
                        target = pick.Target!;
                        var pool = runtime.Pools[rt!.PoolIndex];
                        var connections = pool.Get(target);
                        var hasBody = _req.Chunked || _req.ContentLength > 0;
                        var upstream = hasBody || _req.UpgradeIndex >= 0 ? null : connections.TryTake();
                        if (upstream is null)
                        {
                            (keep, target) = await ForwardWithRetryAsync(rt, pool, pickContext, pick, null, NotRead).ConfigureAwait(false);
                        }
                        else
                        {
                            // ---- the inline exchange ----
                            _upstream = upstream;
                            var upIn = upstream.Input;
                            _responseBytes = 0;
                            _sentAt = Stopwatch.GetTimestamp();
                            WriteRequestHead(upstream.Output);
                            var flushed = await upstream.Output.FlushAsync().ConfigureAwait(false);
                            var head = 0;
                            if (!flushed.IsCompleted)
                            {
                                _upstreamTimedOut = false;
                                Volatile.Write(ref _upstreamDeadline, After(_responseTimeout));
                                while (true)
                                {
                                    ReadResult result;
                                    try
                                    {
                                        result = await upIn.ReadAsync().ConfigureAwait(false);
                                    }
                                    catch (Exception ex) when (ex is IOException or SocketException or ConnectionResetException or ConnectionAbortedException)
                                    {
                                        head = 0;
                                        break;
                                    }
                                    if (result.IsCanceled)
                                    {
                                        upIn.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                                        if (_upstreamTimedOut)
                                        {
                                            head = -1;
                                            break;
                                        }
                                        continue;
                                    }
                                    head = ScanResponseHead(upIn, result);
                                    if (head != NotRead)
                                    {
                                        break;
                                    }
                                }
                                Volatile.Write(ref _upstreamDeadline, 0);
                            }
                            var isHead = _req.Method.SequenceEqual("HEAD"u8);
                            if (head > 0 && _res.ParseResponse(head, default) && _res.StatusCode >= 200 && _res.StatusCode != 101
                                && (isHead || _res.StatusCode is 204 or 304 || (!_res.Chunked && _res.ContentLength >= 0)))
                            {
                                var outcome = RequestOutcome.OtherFailure;
                                _headersAt = logging ? Stopwatch.GetTimestamp() : 0; // only the access log reads it
                                try
                                {
                                    _status = _res.StatusCode;
                                    var noBody = isHead || _status is 204 or 304;
                                    var clientKeep = !_req.ConnectionClose && (!_req.Http10 || _req.ConnectionKeepAlive) && !_closeRequested;
                                    WriteResponseHead(pick, rt, noBody ? Framing.None : Framing.Length, close: !clientKeep, upgrade: false);
                                    var remaining = noBody ? 0 : _res.ContentLength;
                                    var copied = true;
                                    while (remaining > 0)
                                    {
                                        Volatile.Write(ref _upstreamDeadline, After(_responseTimeout));
                                        ReadResult r;
                                        try
                                        {
                                            r = await upIn.ReadAsync().ConfigureAwait(false);
                                        }
                                        catch (Exception ex) when (ex is IOException or SocketException or ConnectionResetException or ConnectionAbortedException)
                                        {
                                            copied = false;
                                            break;
                                        }
                                        finally
                                        {
                                            Volatile.Write(ref _upstreamDeadline, 0);
                                        }
                                        if (r.IsCanceled)
                                        {
                                            upIn.AdvanceTo(r.Buffer.Start, r.Buffer.End);
                                            if (_upstreamTimedOut)
                                            {
                                                copied = false;
                                                break;
                                            }
                                            continue;
                                        }
                                        var buffer = r.Buffer;
                                        if (buffer.IsEmpty && r.IsCompleted)
                                        {
                                            upIn.AdvanceTo(buffer.End);
                                            copied = false;
                                            break;
                                        }
                                        var take = buffer.Slice(0, Math.Min(remaining, buffer.Length));
                                        WriteBody(_out, take);
                                        remaining -= take.Length;
                                        _responseBytes += take.Length;
                                        upIn.AdvanceTo(take.End);
                                        if (remaining > 0 && (await FlushClientAsync().ConfigureAwait(false)).IsCompleted)
                                        {
                                            outcome = RequestOutcome.ClientAborted;
                                            copied = false;
                                            break;
                                        }
                                    }
                                    if (copied && (await FlushClientAsync().ConfigureAwait(false)).IsCompleted)
                                    {
                                        outcome = RequestOutcome.ClientAborted;
                                        copied = false;
                                    }
                                    _upstream = null;
                                    if (copied)
                                    {
                                        outcome = _status >= 500 ? RequestOutcome.ServerError5xx : RequestOutcome.Success;
                                        if (!_res.ConnectionClose && !_res.Http10)
                                        {
                                            upstream.Requests++;
                                            connections.Return(upstream, _proxy.Table.Timestamp());
                                        }
                                        else
                                        {
                                            upstream.Close();
                                        }
                                    }
                                    else
                                    {
                                        upstream.Close();
                                        if (_upstreamTimedOut)
                                        {
                                            outcome = RequestOutcome.Timeout;
                                        }
                                    }
                                    keep = copied && clientKeep;
                                }
                                catch
                                {
                                    outcome = RequestOutcome.ClientAborted;
                                    throw;
                                }
                                finally
                                {
                                    target.AddBytes(0, _responseBytes);
                                    target.Complete(outcome);
                                    _endedAt = ended = Stopwatch.GetTimestamp();
                                    _proxy.Metrics.Upstream(pool.Pool.Id, target.Address, _status, _sentAt, ended);
                                }
                            }
                            else
                            {
                                // Anything else (interim responses, chunked or close-delimited bodies, failures, a stale
                                // pooled connection): the general path takes over from the head it was given.
                                (keep, target) = await ForwardWithRetryAsync(rt, pool, pickContext, pick, upstream, flushed.IsCompleted ? 0 : head).ConfigureAwait(false);
                            }
                        }
                    }
                }
                finally
                {
                    _proxy.Metrics.Request(routeId, _status, started, ended);
                    if (logging)
                    {
                        LogAccess(routeId, target, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                }
                if (!keep)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException or OperationCanceledException)
        {
            FastPathProxy.LogConnectionFailed(_proxy.Logger, ex, _connection.ConnectionId);
        }
        finally
        {
            _upstream?.Close();
            _upstream = null;
            _proxy.ReturnBuffers(_buffers);
        }
    }

    /// <summary>Called by the heartbeat: cancels the read whose deadline passed; the reader sees the flag.</summary>
    public void OnHeartbeat(long now)
    {
        var client = Volatile.Read(ref _clientDeadline);
        if (client != 0 && now > client)
        {
            Volatile.Write(ref _clientDeadline, 0);
            _clientTimedOut = true;
            _in.CancelPendingRead();
        }
        var upstream = Volatile.Read(ref _upstreamDeadline);
        if (upstream != 0 && now > upstream)
        {
            Volatile.Write(ref _upstreamDeadline, 0);
            _upstreamTimedOut = true;
            _upstream?.Input.CancelPendingRead();
        }
        var write = Volatile.Read(ref _writeDeadline);
        if (write != 0 && now > write)
        {
            // The client has not taken the response at the minimum rate: close it, which completes the pending write,
            // so the exchange ends and the upstream connection and the target's slot are released.
            Volatile.Write(ref _writeDeadline, 0);
            _clientWriteFailed = true;
            _connection.Abort(new ConnectionAbortedException("The client did not read the response at the minimum data rate (Kestrel Limits.MinResponseDataRate)."));
        }
        var tunnel = Volatile.Read(ref _tunnelDeadline);
        if (tunnel != 0 && now > tunnel)
        {
            // Nothing moved either way for the pool's response_timeout (the other path's YARP ActivityTimeout): close both sides.
            Volatile.Write(ref _tunnelDeadline, 0);
            _connection.Abort(new ConnectionAbortedException("The upgraded connection was idle longer than the pool's response_timeout."));
            _upstream?.Close();
        }
    }

    /// <summary>
    /// Flushes response bytes to the client. A flush that has to wait (the client is not reading) must finish within
    /// the larger of the grace period and its size at the minimum response rate, as Kestrel enforces on its own
    /// responses; otherwise the heartbeat closes the connection.
    /// </summary>
    private ValueTask<FlushResult> FlushClientAsync()
    {
        var bytes = _out.CanGetUnflushedBytes ? _out.UnflushedBytes : 0;
        var flush = _out.FlushAsync();
        if (flush.IsCompleted || _limits.MinResponseBytesPerSecond <= 0)
        {
            return flush;
        }
        return AwaitSlowFlushAsync(flush, bytes);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FlushResult> AwaitSlowFlushAsync(ValueTask<FlushResult> flush, long bytes)
    {
        var allowedMs = Math.Max(_limits.MinResponseGrace.TotalMilliseconds, bytes * 1000 / _limits.MinResponseBytesPerSecond);
        Volatile.Write(ref _writeDeadline, Environment.TickCount64 + Math.Max(1, (long)allowedMs));
        try
        {
            return await flush.ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _writeDeadline, 0);
        }
    }

    private static long After(TimeSpan span) => span <= TimeSpan.Zero || span > TimeSpan.FromDays(365)
        ? 0
        : Environment.TickCount64 + Math.Max(1, (long)span.TotalMilliseconds);

    /// <summary>
    /// Looks for the end of the request head in what has arrived. Returns its length (copied to <see cref="_req"/>),
    /// 0 when more is needed, or -status when the head is already too long or malformed.
    /// </summary>
    private int ScanRequestHead(in ReadOnlySequence<byte> buffer, bool completed, out SequencePosition consumed)
    {
        consumed = buffer.Start;
        var max = _limits.MaxRequestLine + _limits.MaxRequestHeadersTotal + 4;
        var n = (int)Math.Min(buffer.Length, max);
        ReadOnlySpan<byte> span;
        var copied = false;
        if (buffer.First.Length >= n)
        {
            span = buffer.First.Span[..n];
        }
        else
        {
            buffer.Slice(0, n).CopyTo(_req.Buffer);
            span = _req.Buffer.AsSpan(0, n);
            copied = true;
        }
        var end = span.IndexOf("\r\n\r\n"u8);
        if (end >= 0)
        {
            var length = end + 4;
            if (!copied)
            {
                span[..length].CopyTo(_req.Buffer);
            }
            consumed = buffer.GetPosition(length);
            return length;
        }
        var firstLine = span.IndexOf((byte)'\n');
        var status = firstLine < 0 && n > _limits.MaxRequestLine ? 414
            : firstLine > _limits.MaxRequestLine ? 414
            : n >= max ? 431
            : HasBareLineEnd(span) ? 400
            : completed && !buffer.IsEmpty ? 400
            : 0;
        return -status;
    }

    /// <summary>Looks for the end of a response head: its length (copied to <see cref="_res"/>, input advanced past it), -1 when too long or cut short, 0 when the upstream closed first, or <see cref="NotRead"/> for more.</summary>
    private int ScanResponseHead(PipeReader upIn, in ReadResult result)
    {
        var buffer = result.Buffer;
        var n = (int)Math.Min(buffer.Length, MaxResponseHead);
        buffer.Slice(0, n).CopyTo(_res.Buffer);
        var end = _res.Buffer.AsSpan(0, n).IndexOf("\r\n\r\n"u8);
        if (end >= 0)
        {
            upIn.AdvanceTo(buffer.GetPosition(end + 4));
            return end + 4;
        }
        upIn.AdvanceTo(buffer.Start, buffer.End);
        if (n >= MaxResponseHead)
        {
            return -1;
        }
        if (result.IsCompleted)
        {
            return buffer.IsEmpty ? 0 : -1;
        }
        return NotRead;
    }

    private static bool HasBareLineEnd(ReadOnlySpan<byte> span)
    {
        for (var i = 0; i < span.Length; i++)
        {
            if (span[i] == '\n' && (i == 0 || span[i - 1] != '\r'))
            {
                return true;
            }
            if (span[i] == '\r' && i + 1 < span.Length && span[i + 1] != '\n')
            {
                return true;
            }
        }
        return false;
    }

    private enum Decision
    {
        Forward,
        Connect,
        BadPath,
        NoRoute,
        NoPool,
        NoHealthy,
        Queue,
        QueueFull,
        QueueTimedOut,
        TooLarge,
        HeadersTooLarge,
    }

    /// <summary>Route match and pick, synchronously; a successful pick holds one in-flight slot on its target.</summary>
    private Decision Route(FastRuntime runtime, out RouteRuntime? rt, out PickContext pickContext, out PickResult pick)
    {
        rt = null;
        pickContext = default;
        pick = default;
        _stripCookie = null;
        if (_req.Method.SequenceEqual("CONNECT"u8))
        {
            return Decision.Connect;
        }
        var pathLength = DecodePath(out var pathOk);
        var host = _req.HostValue;
        var hostChars = _chars.AsSpan(pathLength);
        if (!pathOk || host.Length > hostChars.Length)
        {
            return Decision.BadPath;
        }
        Encoding.Latin1.GetChars(host, hostChars);
        var snapshot = runtime.Snapshot;
        var route = snapshot.Routes.Match(hostChars[..host.Length], _chars.AsSpan(0, pathLength));
        _maxBody = route is null ? _limits.MaxRequestBodySize : snapshot.RouteRuntimes[route.Slot].MaxRequestBodySize ?? _limits.MaxRequestBodySize;
        if (_req.ContentLength > 0 && _maxBody is { } maxBody && _req.ContentLength > maxBody)
        {
            return Decision.TooLarge;
        }
        if (route is null)
        {
            return Decision.NoRoute;
        }
        rt = snapshot.RouteRuntimes[route.Slot];
        if (rt.ChecksHeaders && !HeadersWithin(rt))
        {
            return Decision.HeadersTooLarge;
        }
        if (rt.Balancer is null)
        {
            return Decision.NoPool;
        }
        _responseTimeout = rt.ServerTimeout;
        _connectTimeout = rt.ConnectTimeout;
        _clientIdleMs = (long)rt.ClientTimeout.TotalMilliseconds;
        pickContext = rt.Inputs.ReadsRequest ? ReadInputs(rt.Inputs, pathLength) : default;
        pick = rt.Balancer.Pick(in pickContext);
        // prefix mode: the application gets its own cookie back, whichever target the request ends on.
        _stripCookie = rt.Route.Spec.StickyCookie?.Mode == Lb.Core.Spec.StickyCookieModes.Prefix ? rt.Inputs.CookieName : null;
        return pick.Target is not null ? Decision.Forward
            : rt.Pool!.AllAtLimit ? Decision.Queue
            : Decision.NoHealthy;
    }

    /// <summary>The route's header limits (count, total size of names and values) against the parsed head.</summary>
    private bool HeadersWithin(RouteRuntime rt)
    {
        var count = _req.HeaderCount;
        if (rt.MaxRequestHeaderCount > 0 && count > rt.MaxRequestHeaderCount)
        {
            return false;
        }
        if (rt.MaxRequestHeadersSize > 0)
        {
            long size = 0;
            var headers = _req.Headers;
            for (var i = 0; i < count; i++)
            {
                size += headers[i].NameLength + headers[i].ValueLength;
            }
            return size <= rt.MaxRequestHeadersSize;
        }
        return true;
    }

    /// <summary>Every eligible target is at its limit: waits in the pool's queue (the only path here that allocates).</summary>
    private async ValueTask<(Decision, PickResult)> WaitInQueueAsync(RouteRuntime rt, PickContext pickContext)
    {
        var pool = rt.Pool!;
        try
        {
            var (result, pick) = await pool.Queue.WaitAsync(rt.Balancer!, pickContext, pool.QueueSize, pool.QueueTimeout, _connection.ConnectionClosed).ConfigureAwait(false);
            return result switch
            {
                QueueResult.Picked => (Decision.Forward, pick),
                QueueResult.Full => (Decision.QueueFull, default),
                _ => (Decision.QueueTimedOut, default),
            };
        }
        catch (OperationCanceledException)
        {
            return (Decision.QueueTimedOut, default); // the client left; the answer goes nowhere
        }
    }

    /// <summary>Answers a request that is not forwarded; returns whether the connection stays open.</summary>
    private async ValueTask<bool> AnswerAsync(Decision decision)
    {
        // A body nobody reads would be taken for the next request: such a connection is closed after the answer.
        var hasBody = _req.Chunked || _req.ContentLength > 0;
        switch (decision)
        {
            case Decision.Connect:
                await WriteErrorAsync(405, ErrorBodies.Connect, close: true, ErrorBodies.AllowHeader).ConfigureAwait(false);
                return false;
            case Decision.BadPath:
                await WriteBadRequestAsync(400).ConfigureAwait(false);
                return false;
            case Decision.NoRoute:
                await WriteErrorAsync(404, ErrorBodies.NoRoute, close: hasBody).ConfigureAwait(false);
                return !hasBody;
            case Decision.NoPool:
                await WriteErrorAsync(502, ErrorBodies.NoPool, close: hasBody).ConfigureAwait(false);
                return !hasBody;
            case Decision.TooLarge:
                await WriteBadRequestAsync(413).ConfigureAwait(false);
                return false;
            case Decision.HeadersTooLarge:
                await WriteBadRequestAsync(431).ConfigureAwait(false);
                return false;
            case Decision.QueueFull:
                await WriteErrorAsync(503, ErrorBodies.QueueFull, close: hasBody).ConfigureAwait(false);
                return !hasBody;
            case Decision.QueueTimedOut:
                await WriteErrorAsync(503, ErrorBodies.QueueTimedOut, close: hasBody).ConfigureAwait(false);
                return !hasBody;
            default:
                await WriteErrorAsync(503, ErrorBodies.NoHealthy, close: hasBody).ConfigureAwait(false);
                return !hasBody;
        }
    }

    /// <summary>The general forward: connect when needed, retry once on a refused connection, answer failures.</summary>
    private async ValueTask<(bool Keep, UpstreamTarget Target)> ForwardWithRetryAsync(RouteRuntime rt, PoolConnections pool, PickContext pickContext, PickResult pick, UpstreamConnection? taken, int firstHead)
    {
        var hasBody = _req.Chunked || _req.ContentLength > 0;
        var result = await ForwardAsync(rt, pool, pick, mayRetry: !hasBody, taken, firstHead).ConfigureAwait(false);
        if (result == Forwarded.Retry)
        {
            var retry = rt.Balancer!.Pick(pickContext with { Exclude = pick.Target });
            if (retry.Target is not null && !ReferenceEquals(retry.Target, pick.Target))
            {
                result = await ForwardAsync(rt, pool, retry, mayRetry: false, null, NotRead).ConfigureAwait(false);
                return (result == Forwarded.KeepAlive, retry.Target);
            }
            retry.Target?.Complete(RequestOutcome.ClientAborted); // neutral: releases the slot without touching passive health
            await WriteErrorAsync(502, _retryError ?? "proxy upstream error: connection refused", close: false).ConfigureAwait(false);
            return (true, pick.Target!);
        }
        return (result == Forwarded.KeepAlive, pick.Target!);
    }

    private enum Forwarded
    {
        KeepAlive,
        Close,
        Retry,
    }

    private string? _retryError;

    /// <summary>
    /// Forwards to the picked target and answers the client. Returns Retry, having answered nothing, only when
    /// <paramref name="mayRetry"/> and the connection was refused. With <paramref name="taken"/>, the request head
    /// was already sent on it and <paramref name="firstHead"/> is the result of the first response-head read.
    /// </summary>
    private async ValueTask<Forwarded> ForwardAsync(RouteRuntime rt, PoolConnections pool, PickResult pick, bool mayRetry, UpstreamConnection? taken, int firstHead)
    {
        var target = pick.Target!;
        var outcome = RequestOutcome.OtherFailure;
        _upstreamStatus = 0;
        _bodyBytes = _responseBytes = 0;
        if (taken is null)
        {
            _sentAt = Stopwatch.GetTimestamp();
            _headersAt = 0;
        }
        try
        {
            var connections = pool.Get(target);
            var upstream = taken ?? (_req.UpgradeIndex >= 0 ? null : connections.TryTake());
            var reused = upstream is not null;
            if (upstream is null)
            {
                try
                {
                    var connectStart = Stopwatch.GetTimestamp();
                    upstream = await connections.ConnectAsync(_connectTimeout).ConfigureAwait(false);
                    _connectTicks = Stopwatch.GetTimestamp() - connectStart;
                }
                catch (Exception ex) when (ex is SocketException or OperationCanceledException)
                {
                    var refused = ex is SocketException;
                    outcome = RequestOutcome.ConnectFailure;
                    var message = ex is SocketException se ? "proxy upstream error: " + se.Message : "proxy upstream error: connect timeout: the upstream did not accept the connection in time (the route's or the pool's connect_timeout)";
                    if (refused && mayRetry)
                    {
                        _retryError = message;
                        return Forwarded.Retry;
                    }
                    // With an unread body the connection ends after this answer: the answer must say so, or the
                    // client sends its next request into a closing connection and reads a reset.
                    var unreadBody = _req.Chunked || _req.ContentLength > 0;
                    await WriteErrorAsync(502, message, close: unreadBody).ConfigureAwait(false);
                    return unreadBody ? Forwarded.Close : Forwarded.KeepAlive;
                }
            }
            _upstream = upstream;
            var exchange = await ExchangeAsync(upstream, rt, pick, canReplay: reused && !(_req.Chunked || _req.ContentLength > 0), taken is null ? NotRead : firstHead).ConfigureAwait(false);
            if (exchange.Replay)
            {
                // The idle connection had been closed by the upstream before our request reached it: a fresh one, once.
                upstream.Close();
                _upstream = null;
                try
                {
                    var connectStart = Stopwatch.GetTimestamp();
                    upstream = await connections.ConnectAsync(_connectTimeout).ConfigureAwait(false);
                    _connectTicks = Stopwatch.GetTimestamp() - connectStart;
                }
                catch (Exception ex) when (ex is SocketException or OperationCanceledException)
                {
                    outcome = RequestOutcome.ConnectFailure;
                    await WriteErrorAsync(502, "proxy upstream error: " + ex.Message, close: false).ConfigureAwait(false);
                    return Forwarded.KeepAlive;
                }
                _upstream = upstream;
                exchange = await ExchangeAsync(upstream, rt, pick, canReplay: false, NotRead).ConfigureAwait(false);
            }
            outcome = exchange.Outcome;
            _upstream = null;
            if (exchange.ReuseUpstream)
            {
                upstream.Requests++;
                connections.Return(upstream, _proxy.Table.Timestamp());
            }
            else
            {
                upstream.Close();
            }
            return exchange.KeepClient ? Forwarded.KeepAlive : Forwarded.Close;
        }
        catch
        {
            // Upstream failures are answered, not thrown: what escapes is the client's connection failing.
            outcome = RequestOutcome.ClientAborted;
            throw;
        }
        finally
        {
            target.AddBytes(_bodyBytes, _responseBytes);
            target.Complete(outcome);
            _proxy.Metrics.Upstream(pool.Pool.Id, target.Address, _upstreamStatus, _sentAt);
            _endedAt = Stopwatch.GetTimestamp();
        }
    }

    private readonly record struct Exchange(RequestOutcome Outcome, bool ReuseUpstream, bool KeepClient, bool Replay);

    private enum BodyEnd
    {
        Done,
        ClientClosed,
        ClientBad,
        ClientTooLarge,
        ClientTimedOut,
        UpstreamClosed,
        Abandoned,
    }

    /// <summary>One request/response exchange on <paramref name="upstream"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Exchange> ExchangeAsync(UpstreamConnection upstream, RouteRuntime rt, PickResult pick, bool canReplay, int firstHead)
    {
        var upOut = upstream.Output;
        var upIn = upstream.Input;
        var hasBody = _req.Chunked || _req.ContentLength > 0;
        var flushed = default(FlushResult);
        if (firstHead == NotRead)
        {
            WriteRequestHead(upOut);
            flushed = await upOut.FlushAsync().ConfigureAwait(false);
        }
        if (flushed.IsCompleted)
        {
            if (canReplay)
            {
                return new Exchange(RequestOutcome.OtherFailure, false, true, true);
            }
            var failed = await UpstreamFailedAsync("the upstream closed the connection").ConfigureAwait(false);
            return failed with { KeepClient = !hasBody };
        }

        _abandonBody = false;
        _bodyBytes = 0;
        _bodyWaitedMs = 0;
        _bodyFailed = false;
        if (hasBody && _req.ExpectContinue && !_req.Http10)
        {
            // Like Kestrel: the client is told to go on once its request has a target; the upstream's own 100 is dropped.
            _out.Write("HTTP/1.1 100 Continue\r\n\r\n"u8);
            await _out.FlushAsync().ConfigureAwait(false);
        }
        var body = hasBody ? SendRequestBodyAsync(upOut, upIn) : new ValueTask<BodyEnd>(BodyEnd.Done);

        // The response head; 1xx interim responses are passed on (100 Continue only to a client that asked for it).
        var isHead = _req.Method.SequenceEqual("HEAD"u8);
        int headLength;
        while (true)
        {
            if (firstHead != NotRead)
            {
                headLength = firstHead;
                firstHead = NotRead;
            }
            else
            {
                headLength = await ReadResponseHeadAsync(upIn, pool: rt.Pool!).ConfigureAwait(false);
            }
            if (headLength <= 0)
            {
                var bodyEnd = await AbandonBodyAsync(body).ConfigureAwait(false);
                if (headLength == 0 && canReplay && !_upstreamTimedOut)
                {
                    return new Exchange(RequestOutcome.OtherFailure, false, true, true);
                }
                if (bodyEnd is BodyEnd.ClientTooLarge)
                {
                    // As for a Content-Length over the limit (and as Kestrel answers): 413, empty body, connection closed.
                    await WriteBadRequestAsync(413).ConfigureAwait(false);
                    return new Exchange(RequestOutcome.ClientAborted, false, false, false);
                }
                if (bodyEnd is BodyEnd.ClientBad)
                {
                    _status = 400;
                    await WriteErrorAsync(400, "bad request body: invalid chunked encoding: each chunk must start with its size in hexadecimal digits followed by CRLF", close: true).ConfigureAwait(false);
                    return new Exchange(RequestOutcome.ClientAborted, false, false, false);
                }
                if (bodyEnd is BodyEnd.ClientTimedOut && _clientIdleMs > 0)
                {
                    await WriteErrorAsync(408, ErrorBodies.ClientTimeout, close: true).ConfigureAwait(false);
                    return new Exchange(RequestOutcome.ClientAborted, false, false, false);
                }
                if (bodyEnd is BodyEnd.ClientClosed or BodyEnd.ClientTimedOut)
                {
                    _status = 400;
                    return new Exchange(RequestOutcome.ClientAborted, false, false, false);
                }
                if (_upstreamTimedOut)
                {
                    await WriteErrorAsync(504, ErrorBodies.Timeout, close: hasBody).ConfigureAwait(false);
                    return new Exchange(RequestOutcome.Timeout, false, !hasBody, false);
                }
                var failed = await UpstreamFailedAsync(headLength == 0 ? "the upstream closed the connection before answering" : "the upstream sent an invalid response head").ConfigureAwait(false);
                return failed with { KeepClient = failed.KeepClient && !hasBody };
            }
            if (!_res.ParseResponse(headLength, default))
            {
                await AbandonBodyAsync(body).ConfigureAwait(false);
                var failed = await UpstreamFailedAsync("the upstream sent an invalid response head").ConfigureAwait(false);
                return failed with { KeepClient = failed.KeepClient && !hasBody };
            }
            if (_res.StatusCode >= 200 || (_res.StatusCode == 101 && _req.UpgradeIndex >= 0 && _req.ConnectionUpgrade))
            {
                break;
            }
            if (_res.StatusCode == 101)
            {
                await AbandonBodyAsync(body).ConfigureAwait(false);
                var failed = await UpstreamFailedAsync("the upstream switched protocols without being asked").ConfigureAwait(false);
                return failed with { KeepClient = false };
            }
            if (_res.StatusCode != 100 && !_req.Http10)
            {
                _out.Write(_res.Span);
                await _out.FlushAsync().ConfigureAwait(false);
            }
        }

        _status = _upstreamStatus = _res.StatusCode;
        _headersAt = Stopwatch.GetTimestamp();
        var outcome = _status >= 500 ? RequestOutcome.ServerError5xx : RequestOutcome.Success;
        if (_status == 101)
        {
            await body.ConfigureAwait(false);
            WriteResponseHead(pick, rt, framing: Framing.None, close: false, upgrade: true);
            await _out.FlushAsync().ConfigureAwait(false);
            await TunnelAsync(upIn, upOut, rt.ServerTimeout).ConfigureAwait(false);
            return new Exchange(RequestOutcome.Success, false, false, false);
        }

        // Framing of the response body, and what the client gets.
        var noBody = isHead || _status == 204 || _status == 304;
        var framing = noBody ? Framing.None
            : _res.Chunked ? (_req.Http10 ? Framing.ChunkedToRaw : Framing.Chunked)
            : _res.ContentLength >= 0 ? Framing.Length
            : _req.Http10 ? Framing.UntilCloseRaw : Framing.UntilCloseChunked;
        var upstreamReusable = !_res.ConnectionClose && !_res.Http10 && framing is not (Framing.UntilCloseRaw or Framing.UntilCloseChunked);
        var clientKeep = !_req.ConnectionClose && (!_req.Http10 || _req.ConnectionKeepAlive) && !_closeRequested
            && framing is not (Framing.ChunkedToRaw or Framing.UntilCloseRaw) && body.IsCompleted;
        WriteResponseHead(pick, rt, framing, close: !clientKeep, upgrade: false);

        var copied = framing switch
        {
            Framing.None => true,
            Framing.Length => await CopyResponseLengthAsync(upIn, _res.ContentLength, rt.Pool!).ConfigureAwait(false),
            Framing.Chunked or Framing.ChunkedToRaw => await CopyChunkedAsync(upIn, _out, framing == Framing.Chunked, fromClient: false, rt.Pool!).ConfigureAwait(false) == BodyEnd.Done,
            _ => await CopyUntilCloseAsync(upIn, framing == Framing.UntilCloseChunked, rt.Pool!).ConfigureAwait(false),
        };
        if (framing == Framing.None)
        {
            var flush = await FlushClientAsync().ConfigureAwait(false);
            copied = !flush.IsCompleted;
        }
        var requestEnd = body.IsCompleted ? await body.ConfigureAwait(false) : await AbandonBodyAsync(body).ConfigureAwait(false);
        if (!copied)
        {
            // The status line is out: the client learns of the failure by the connection closing early.
            return new Exchange(_upstreamTimedOut ? RequestOutcome.Timeout : _clientWriteFailed ? RequestOutcome.ClientAborted : RequestOutcome.OtherFailure, false, false, false);
        }
        var bodySent = requestEnd == BodyEnd.Done;
        return new Exchange(outcome, upstreamReusable && bodySent, clientKeep && bodySent, false);
    }

    private volatile bool _clientWriteFailed;

    private enum Framing
    {
        None,
        Length,
        Chunked,
        ChunkedToRaw,
        UntilCloseChunked,
        UntilCloseRaw,
    }

    /// <summary>A failure before anything reached the client: 502 with the reason, the upstream connection dropped.</summary>
    private async ValueTask<Exchange> UpstreamFailedAsync(string reason)
    {
        _status = 502;
        await WriteErrorAsync(502, "proxy upstream error: " + reason, close: false).ConfigureAwait(false);
        return new Exchange(RequestOutcome.OtherFailure, false, true, false);
    }

    /// <summary>Stops a request body copy the response no longer waits for (the connection is closed afterwards).</summary>
    private async ValueTask<BodyEnd> AbandonBodyAsync(ValueTask<BodyEnd> body)
    {
        if (!body.IsCompleted)
        {
            _abandonBody = true;
            _in.CancelPendingRead();
        }
        return await body.ConfigureAwait(false);
    }

    /// <summary>Reads a response head into <see cref="_res"/>: its length, 0 when the upstream closed first, -1 when malformed or timed out.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadResponseHeadAsync(PipeReader upIn, Balancing.UpstreamPool pool)
    {
        _upstreamTimedOut = false;
        Volatile.Write(ref _upstreamDeadline, After(_responseTimeout));
        try
        {
            while (true)
            {
                ReadResult result;
                try
                {
                    result = await upIn.ReadAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or SocketException or ConnectionResetException or ConnectionAbortedException)
                {
                    return 0;
                }
                var buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    upIn.AdvanceTo(buffer.Start, buffer.End);
                    if (_upstreamTimedOut || _bodyFailed)
                    {
                        return -1;
                    }
                    continue;
                }
                var head = ScanResponseHead(upIn, result);
                if (head != NotRead)
                {
                    return head;
                }
            }
        }
        finally
        {
            Volatile.Write(ref _upstreamDeadline, 0);
        }
    }

    /// <summary>The sticky cookie whose <c>key~</c> prefix is stripped from the request (<c>prefix</c> mode), or null.</summary>
    private string? _stripCookie;

    private void WriteRequestHead(PipeWriter pipe)
    {
        var req = _req;
        req.MarkHopByHop();
        var cookieLine = _stripCookie is { } stripName ? StrippedCookieLine(stripName) : null;
        // Everything below is the head's own bytes (each X-Forwarded-For value at most once more), the peer, the node
        // header, the joined cookie line and fixed lines: twice the head plus those bounds it.
        var w = new HeadWriter(pipe, (2 * req.Length) + _peer.Length + _proxy.NodeHeaderLine.Length + (cookieLine?.Length ?? 0) + 128);
        w.Write(req.Method);
        w.Write(" "u8);
        w.Write(req.Target);
        w.Write(" HTTP/1.1\r\n"u8);
        var xffListed = req.ConnectionListsOthers && req.ListedInConnection("X-Forwarded-For"u8);
        var xffCount = 0;
        for (var i = 0; i < req.HeaderCount; i++)
        {
            ref readonly var h = ref req.Headers[i];
            if (h.Dropped)
            {
                continue;
            }
            switch (h.Kind)
            {
                case HeaderKind.XForwardedFor:
                    xffCount++;
                    continue;
                case HeaderKind.XForwardedProto or HeaderKind.XForwardedHost or HeaderKind.NodeHeader:
                    continue;
                case HeaderKind.Cookie when cookieLine is not null:
                    // The Cookie headers joined into one, where the first one was.
                    if (cookieLine.Length > 0)
                    {
                        w.Write("Cookie: "u8);
                        w.WriteLatin1(cookieLine);
                        w.Write("\r\n"u8);
                        cookieLine = "";
                    }
                    continue;
            }
            w.Write(req.Line(h));
        }
        if (req.HostIndex < 0)
        {
            w.Write("Host: \r\n"u8);
        }
        if (_peer.Length > 0)
        {
            w.Write("X-Forwarded-For: "u8);
            if (!xffListed && xffCount > 0)
            {
                for (var i = 0; i < req.HeaderCount; i++)
                {
                    ref readonly var h = ref req.Headers[i];
                    if (h.Kind == HeaderKind.XForwardedFor && !h.Dropped)
                    {
                        w.Write(req.Value(h));
                        w.Write(", "u8);
                    }
                }
            }
            w.Write(_peer);
            w.Write("\r\n"u8);
        }
        w.Write(_tls ? "X-Forwarded-Proto: https\r\n"u8 : "X-Forwarded-Proto: http\r\n"u8);
        w.Write("X-Forwarded-Host: "u8);
        w.Write(req.HostValue);
        w.Write("\r\n"u8);
        w.Write(_proxy.NodeHeaderLine);
        if (req.Chunked)
        {
            w.Write("Transfer-Encoding: chunked\r\n"u8);
        }
        if (req.UpgradeIndex >= 0 && req.ConnectionUpgrade)
        {
            w.Write("Connection: Upgrade\r\nUpgrade: "u8);
            w.Write(req.Value(req.Headers[req.UpgradeIndex]));
            w.Write("\r\n"u8);
        }
        w.Write("\r\n"u8);
        w.Commit();
    }

    /// <summary><c>prefix</c> mode: the request's Cookie headers joined and with the target key stripped, or null when nothing changes (allocates; only for such routes).</summary>
    private string? StrippedCookieLine(string name)
    {
        string? joined = null;
        for (var i = 0; i < _req.HeaderCount; i++)
        {
            ref readonly var h = ref _req.Headers[i];
            if (h.Kind == HeaderKind.Cookie && !h.Dropped)
            {
                var value = Encoding.Latin1.GetString(_req.Value(h));
                joined = joined is null ? value : joined + "; " + value;
            }
        }
        return joined is null ? null : StickyCookies.StripPrefix(joined, name);
    }

    private void WriteResponseHead(PickResult pick, RouteRuntime rt, Framing framing, bool close, bool upgrade)
    {
        var res = _res;
        res.MarkHopByHop();
        _bytesOut = framing == Framing.Length ? res.ContentLength : -1;
        var sticky = rt.Route.Spec.StickyCookie;
        // prefix and rewrite: the application's own Set-Cookie for the sticky cookie is re-keyed with the target's key.
        var rewriteKey = sticky?.Mode is Lb.Core.Spec.StickyCookieModes.Prefix or Lb.Core.Spec.StickyCookieModes.Rewrite ? pick.SetCookieValue : null;
        // The upstream's head plus fixed lines; a sticky cookie's Set-Cookie lines may not fit, and then go piece by piece.
        var w = new HeadWriter(_out, (2 * res.Length) + 128);
        var span = res.Span;
        var lineEnd = span.IndexOf((byte)'\n') + 1;
        // Always HTTP/1.1 towards the client, with the upstream's status and reason.
        w.Write("HTTP/1.1"u8);
        w.Write(span[8..lineEnd]);
        for (var i = 0; i < res.HeaderCount; i++)
        {
            ref readonly var h = ref res.Headers[i];
            if (h.Dropped || (framing != Framing.Length && h.Kind == HeaderKind.ContentLength && framing != Framing.None))
            {
                continue;
            }
            if (rewriteKey is not null && rt.Inputs.CookieName is { } rewriteName && Ascii.EqualsIgnoreCase(res.Name(h), "Set-Cookie"u8)
                && StickyCookies.RewriteSetCookie(Encoding.Latin1.GetString(res.Value(h)), rewriteName, rewriteKey, sticky!) is { } replaced)
            {
                w.Write("Set-Cookie: "u8);
                w.WriteLatin1(replaced);
                w.Write("\r\n"u8);
                continue;
            }
            w.Write(res.Line(h));
        }
        if (upgrade)
        {
            w.Write("Connection: Upgrade\r\n"u8);
            if (res.UpgradeIndex >= 0)
            {
                w.Write("Upgrade: "u8);
                w.Write(res.Value(res.Headers[res.UpgradeIndex]));
                w.Write("\r\n"u8);
            }
        }
        else if (close)
        {
            w.Write("Connection: close\r\n"u8);
        }
        else if (_req.Http10)
        {
            w.Write("Connection: keep-alive\r\n"u8);
        }
        if (framing is Framing.Chunked or Framing.UntilCloseChunked)
        {
            w.Write("Transfer-Encoding: chunked\r\n"u8);
        }
        if (rewriteKey is null && pick.SetCookieValue is { } cookieValue && rt.Inputs.CookieName is { } cookieName)
        {
            w.Write("Set-Cookie: "u8);
            w.WriteUtf8(StickyCookies.FormatSetCookie(cookieName, cookieValue, rt.Route.Spec.StickyCookie));
            w.Write("\r\n"u8);
        }
        w.Write("\r\n"u8);
        w.Commit();
    }

    private static void WriteAscii(PipeWriter w, string s)
    {
        var span = w.GetSpan(Encoding.UTF8.GetMaxByteCount(s.Length));
        w.Advance(Encoding.UTF8.GetBytes(s, span));
    }

    private volatile bool _bodyFailed;

    /// <summary>The request body copy; when the client's body fails, waiting for the upstream's answer stops too.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<BodyEnd> SendRequestBodyAsync(PipeWriter upOut, PipeReader upIn)
    {
        var end = await CopyRequestBodyAsync(upOut).ConfigureAwait(false);
        if (end is BodyEnd.ClientBad or BodyEnd.ClientTooLarge or BodyEnd.ClientClosed or BodyEnd.ClientTimedOut)
        {
            _bodyFailed = true;
            upIn.CancelPendingRead();
        }
        return end;
    }

    /// <summary>Copies the request body (Content-Length or chunked) to the upstream, with back-pressure both ways.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<BodyEnd> CopyRequestBodyAsync(PipeWriter upOut)
    {
        try
        {
            if (_req.Chunked)
            {
                return await CopyChunkedAsync(_in, upOut, emitChunked: true, fromClient: true, pool: null).ConfigureAwait(false);
            }
            var remaining = _req.ContentLength;
            while (remaining > 0)
            {
                var result = await ReadClientBodyAsync().ConfigureAwait(false);
                if (result is not { } r)
                {
                    return _abandonBody ? BodyEnd.Abandoned : BodyEnd.ClientTimedOut;
                }
                var buffer = r.Buffer;
                if (buffer.IsEmpty && r.IsCompleted)
                {
                    _in.AdvanceTo(buffer.End);
                    return BodyEnd.ClientClosed;
                }
                var take = buffer.Slice(0, Math.Min(remaining, buffer.Length));
                WriteBody(upOut, take);
                remaining -= take.Length;
                _bodyBytes += take.Length;
                _in.AdvanceTo(take.End);
                var flush = await upOut.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    return BodyEnd.UpstreamClosed;
                }
            }
            return BodyEnd.Done;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException)
        {
            return BodyEnd.UpstreamClosed;
        }
    }

    /// <summary>A read of request body bytes under the minimum data rate; null when it timed out or was abandoned.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult?> ReadClientBodyAsync()
    {
        while (true)
        {
            if (_abandonBody)
            {
                return null;
            }
            if (_clientIdleMs > 0)
            {
                // The route's client_timeout: each wait for body bytes may last this long.
                Volatile.Write(ref _clientDeadline, Environment.TickCount64 + _clientIdleMs);
            }
            // Kestrel's rule: after the grace period the body must have come at the minimum rate, counting only time spent waiting on the client.
            else if (_limits.MinBodyBytesPerSecond > 0)
            {
                var allowedMs = (long)(_limits.MinBodyGrace.TotalMilliseconds + (_bodyBytes * 1000 / _limits.MinBodyBytesPerSecond)) - _bodyWaitedMs;
                Volatile.Write(ref _clientDeadline, Environment.TickCount64 + Math.Max(1, allowedMs));
            }
            _clientTimedOut = false;
            var waitStart = Environment.TickCount64;
            var result = await _in.ReadAsync().ConfigureAwait(false);
            Volatile.Write(ref _clientDeadline, 0);
            _bodyWaitedMs += Environment.TickCount64 - waitStart;
            if (result.IsCanceled)
            {
                _in.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                if (_abandonBody || _clientTimedOut)
                {
                    return null;
                }
                continue;
            }
            return result;
        }
    }

    /// <summary>Copies a chunked body strictly, re-framing it (chunk extensions and trailers are not passed on).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<BodyEnd> CopyChunkedAsync(PipeReader src, PipeWriter dst, bool emitChunked, bool fromClient, Balancing.UpstreamPool? pool)
    {
        try
        {
            long remaining = 0;
            var state = 0; // 0 size line, 1 data, 2 data CRLF, 3 trailers
            while (true)
            {
                ReadResult r;
                if (fromClient)
                {
                    if (await ReadClientBodyAsync().ConfigureAwait(false) is not { } read)
                    {
                        return _abandonBody ? BodyEnd.Abandoned : BodyEnd.ClientTimedOut;
                    }
                    r = read;
                }
                else if (await ReadUpstreamAsync(src, pool!).ConfigureAwait(false) is { } read)
                {
                    r = read;
                }
                else
                {
                    return BodyEnd.UpstreamClosed;
                }
                var buffer = r.Buffer;
                var progressed = false;
                while (true)
                {
                    if (state == 0)
                    {
                        var step = Chunked.TryReadSize(buffer, out var size, out var consumed);
                        if (step == ParseStep.Bad)
                        {
                            src.AdvanceTo(buffer.Start);
                            return fromClient ? BodyEnd.ClientBad : BodyEnd.UpstreamClosed;
                        }
                        if (step == ParseStep.NeedMore)
                        {
                            break;
                        }
                        // A chunked body has no declared length: the size limit is checked chunk by chunk, before the
                        // chunk goes upstream (Content-Length bodies are checked from the head).
                        if (fromClient && _maxBody is { } max && _bodyBytes + size > max)
                        {
                            src.AdvanceTo(buffer.Start);
                            return BodyEnd.ClientTooLarge;
                        }
                        buffer = buffer.Slice(consumed);
                        progressed = true;
                        remaining = size;
                        state = size == 0 ? 3 : 1;
                        if (size > 0 && emitChunked)
                        {
                            Chunked.WriteSize(dst, size);
                        }
                    }
                    else if (state == 1)
                    {
                        if (buffer.IsEmpty)
                        {
                            break;
                        }
                        var take = buffer.Slice(0, Math.Min(remaining, buffer.Length));
                        WriteBody(dst, take);
                        remaining -= take.Length;
                        if (fromClient)
                        {
                            _bodyBytes += take.Length;
                        }
                        else
                        {
                            _responseBytes += take.Length;
                        }
                        buffer = buffer.Slice(take.End);
                        progressed = true;
                        if (remaining == 0)
                        {
                            state = 2;
                        }
                    }
                    else if (state == 2)
                    {
                        var step = Chunked.TryReadDataEnd(buffer, out var consumed);
                        if (step == ParseStep.Bad)
                        {
                            src.AdvanceTo(buffer.Start);
                            return fromClient ? BodyEnd.ClientBad : BodyEnd.UpstreamClosed;
                        }
                        if (step == ParseStep.NeedMore)
                        {
                            break;
                        }
                        buffer = buffer.Slice(consumed);
                        progressed = true;
                        state = 0;
                        if (emitChunked)
                        {
                            dst.Write("\r\n"u8);
                        }
                    }
                    else
                    {
                        var step = Chunked.TryReadTrailers(buffer, _limits.MaxRequestHeadersTotal, out var consumed);
                        if (step == ParseStep.Bad)
                        {
                            src.AdvanceTo(buffer.Start);
                            return fromClient ? BodyEnd.ClientBad : BodyEnd.UpstreamClosed;
                        }
                        if (step == ParseStep.NeedMore)
                        {
                            break;
                        }
                        src.AdvanceTo(consumed);
                        if (emitChunked)
                        {
                            dst.Write("0\r\n\r\n"u8);
                        }
                        var done = await (fromClient ? dst.FlushAsync() : FlushClientAsync()).ConfigureAwait(false);
                        return done.IsCompleted ? Fail(fromClient) : BodyEnd.Done;
                    }
                }
                src.AdvanceTo(buffer.Start, buffer.End);
                if (!progressed && r.IsCompleted)
                {
                    return fromClient ? BodyEnd.ClientClosed : BodyEnd.UpstreamClosed;
                }
                var flush = await (fromClient ? dst.FlushAsync() : FlushClientAsync()).ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    return Fail(fromClient);
                }
                if (r.IsCompleted && buffer.IsEmpty)
                {
                    return fromClient ? BodyEnd.ClientClosed : BodyEnd.UpstreamClosed;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException)
        {
            if (!fromClient)
            {
                _clientWriteFailed = true;
            }
            return BodyEnd.UpstreamClosed;
        }

        BodyEnd Fail(bool client)
        {
            if (!client)
            {
                _clientWriteFailed = true;
            }
            return BodyEnd.UpstreamClosed;
        }
    }

    /// <summary>A read from the upstream under the pool's response timeout (an idle timeout: it restarts with every read); null on timeout or failure.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult?> ReadUpstreamAsync(PipeReader upIn, Balancing.UpstreamPool pool)
    {
        _upstreamTimedOut = false;
        while (true)
        {
            Volatile.Write(ref _upstreamDeadline, After(_responseTimeout));
            ReadResult result;
            try
            {
                result = await upIn.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ConnectionResetException or ConnectionAbortedException)
            {
                return null;
            }
            finally
            {
                Volatile.Write(ref _upstreamDeadline, 0);
            }
            if (result.IsCanceled)
            {
                upIn.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                if (_upstreamTimedOut || _bodyFailed)
                {
                    return null;
                }
                continue;
            }
            return result;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> CopyResponseLengthAsync(PipeReader upIn, long length, Balancing.UpstreamPool pool)
    {
        var remaining = length;
        try
        {
            while (remaining > 0)
            {
                if (await ReadUpstreamAsync(upIn, pool).ConfigureAwait(false) is not { } r)
                {
                    return false;
                }
                var buffer = r.Buffer;
                if (buffer.IsEmpty && r.IsCompleted)
                {
                    upIn.AdvanceTo(buffer.End);
                    return false;
                }
                var take = buffer.Slice(0, Math.Min(remaining, buffer.Length));
                WriteBody(_out, take);
                remaining -= take.Length;
                _responseBytes += take.Length;
                upIn.AdvanceTo(take.End);
                var flush = await FlushClientAsync().ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    _clientWriteFailed = true;
                    return false;
                }
            }
            if (length == 0)
            {
                var flush = await FlushClientAsync().ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    _clientWriteFailed = true;
                    return false;
                }
            }
            return true;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException)
        {
            _clientWriteFailed = true;
            return false;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> CopyUntilCloseAsync(PipeReader upIn, bool chunked, Balancing.UpstreamPool pool)
    {
        try
        {
            while (true)
            {
                if (await ReadUpstreamAsync(upIn, pool).ConfigureAwait(false) is not { } r)
                {
                    return false;
                }
                var buffer = r.Buffer;
                if (!buffer.IsEmpty)
                {
                    if (chunked)
                    {
                        Chunked.WriteSize(_out, buffer.Length);
                    }
                    _responseBytes += buffer.Length;
                    WriteBody(_out, buffer);
                    if (chunked)
                    {
                        _out.Write("\r\n"u8);
                    }
                }
                upIn.AdvanceTo(buffer.End);
                if (r.IsCompleted)
                {
                    if (chunked)
                    {
                        _out.Write("0\r\n\r\n"u8);
                    }
                    var last = await FlushClientAsync().ConfigureAwait(false);
                    return !last.IsCompleted;
                }
                var flush = await FlushClientAsync().ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    _clientWriteFailed = true;
                    return false;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException)
        {
            _clientWriteFailed = true;
            return false;
        }
    }

    private void TouchTunnel()
    {
        if (_tunnelIdleMs > 0)
        {
            Volatile.Write(ref _tunnelDeadline, Environment.TickCount64 + _tunnelIdleMs);
        }
    }

    /// <summary>After a 101: bytes both ways until either side closes, or nothing moves for <paramref name="idle"/>.</summary>
    private async Task TunnelAsync(PipeReader upIn, PipeWriter upOut, TimeSpan idle)
    {
        _tunnelIdleMs = After(idle) == 0 ? 0 : Math.Max(1, (long)idle.TotalMilliseconds);
        TouchTunnel();
        var up = PumpAsync(this, _in, upOut);
        var down = PumpAsync(this, upIn, _out);
        var first = await Task.WhenAny(up, down).ConfigureAwait(false);
        // One side is done: stop the other so both connections close.
        _in.CancelPendingRead();
        upIn.CancelPendingRead();
        await Task.WhenAll(up, down).ConfigureAwait(false);
        Volatile.Write(ref _tunnelDeadline, 0);
        _ = first;

        static async Task PumpAsync(FastConnection self, PipeReader from, PipeWriter to)
        {
            try
            {
                while (true)
                {
                    var r = await from.ReadAsync().ConfigureAwait(false);
                    if (r.IsCanceled)
                    {
                        from.AdvanceTo(r.Buffer.Start, r.Buffer.End);
                        return;
                    }
                    WriteBody(to, r.Buffer);
                    from.AdvanceTo(r.Buffer.End);
                    var flush = await to.FlushAsync().ConfigureAwait(false);
                    self.TouchTunnel();
                    if (r.IsCompleted || flush.IsCompleted)
                    {
                        return;
                    }
                }
            }
#pragma warning disable CA1031 // Either side going away ends the tunnel; there is nobody to report to.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    /// <summary>
    /// Body bytes in one contiguous buffer when they span several blocks (a pipe takes a size hint above its pool's block
    /// size from the shared array pool): the socket gets one large send with few iovecs instead of one 4 KiB iovec per
    /// block, and the runtime's sendmsg stays allocation-free (it allocates above 8 iovecs).
    /// </summary>
    private static void WriteBody(PipeWriter w, in ReadOnlySequence<byte> data)
    {
        if (data.IsSingleSegment && data.Length <= SmallBodyWrite)
        {
            w.Write(data.FirstSpan);
            return;
        }
        var length = (int)data.Length;
        data.CopyTo(w.GetSpan(length));
        w.Advance(length);
    }

    private const int SmallBodyWrite = 4096;

    /// <summary>Answers a malformed request the way Kestrel does (status, empty body) and closes.</summary>
    private async ValueTask WriteBadRequestAsync(int status)
    {
        _status = status;
        _out.Write(status switch
        {
            413 => "HTTP/1.1 413 Payload Too Large\r\n"u8,
            414 => "HTTP/1.1 414 URI Too Long\r\n"u8,
            431 => "HTTP/1.1 431 Request Header Fields Too Large\r\n"u8,
            501 => "HTTP/1.1 501 Not Implemented\r\n"u8,
            505 => "HTTP/1.1 505 HTTP Version Not Supported\r\n"u8,
            _ => "HTTP/1.1 400 Bad Request\r\n"u8,
        });
        _out.Write("Content-Length: 0\r\nConnection: close\r\n\r\n"u8);
        await _out.FlushAsync().ConfigureAwait(false);
    }

    private ValueTask WriteErrorAsync(int status, string message, bool close, string? extraHeader = null)
    {
        _status = status;
        var w = _out;
        w.Write(status switch
        {
            404 => "HTTP/1.1 404 Not Found\r\n"u8,
            405 => "HTTP/1.1 405 Method Not Allowed\r\n"u8,
            503 => "HTTP/1.1 503 Service Unavailable\r\n"u8,
            408 => "HTTP/1.1 408 Request Timeout\r\n"u8,
            504 => "HTTP/1.1 504 Gateway Timeout\r\n"u8,
            400 => "HTTP/1.1 400 Bad Request\r\n"u8,
            _ => "HTTP/1.1 502 Bad Gateway\r\n"u8,
        });
        w.Write("Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nContent-Length: "u8);
        var length = Encoding.UTF8.GetByteCount(message) + 1;
        var span = w.GetSpan(20);
        Utf8Formatter.TryFormat(length, span, out var n);
        w.Advance(n);
        w.Write("\r\n"u8);
        if (extraHeader is not null)
        {
            WriteAscii(w, extraHeader);
        }
        w.Write(close ? "Connection: close\r\n\r\n"u8 : "\r\n"u8);
        if (!_req.Method.SequenceEqual("HEAD"u8))
        {
            WriteAscii(w, message);
            w.Write("\n"u8);
        }
        return FlushAsync(w);

        static async ValueTask FlushAsync(PipeWriter w) => await w.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Decodes the request path into <see cref="_chars"/> as Kestrel does for routing (percent-decoding except
    /// <c>%2F</c>, UTF-8); dot segments are refused rather than resolved, so no route can be reached by a path the
    /// backend would read differently.
    /// </summary>
    private int DecodePath(out bool ok)
    {
        ok = true;
        var target = _req.Target;
        var path = target[.._req.PathLength];
        if (path.Length == 1 && path[0] == '*')
        {
            return 0; // OPTIONS *: matched as "/"
        }
        if (path.Length > 7 && (Ascii.EqualsIgnoreCase(path[..7], "http://"u8) || Ascii.EqualsIgnoreCase(path[..8], "https://"u8)))
        {
            // Absolute form: the upstream gets the origin form; the Host header still routes.
            var afterScheme = path.IndexOf("//"u8) + 2;
            var slash = path[afterScheme..].IndexOf((byte)'/');
            // RFC 9112 §3.2.2: the target's authority wins over Host; one name routing and the other reaching the backend is refused.
            if (slash < 0 || !Ascii.EqualsIgnoreCase(path[afterScheme..(afterScheme + slash)], _req.HostValue))
            {
                ok = false;
                return 0;
            }
            var cut = afterScheme + slash;
            _req.TargetStart += cut;
            _req.TargetLength -= cut;
            _req.PathLength -= cut;
            path = path[cut..];
        }
        if (path.IsEmpty || path[0] != '/')
        {
            ok = false;
            return 0;
        }
        var bytes = _pathBytes.AsSpan();
        var length = 0;
        for (var i = 0; i < path.Length; i++)
        {
            var b = path[i];
            if (b == '%')
            {
                if (i + 2 >= path.Length || !char.IsAsciiHexDigit((char)path[i + 1]) || !char.IsAsciiHexDigit((char)path[i + 2]))
                {
                    ok = false;
                    return 0;
                }
                var value = (byte)((HexValue(path[i + 1]) << 4) | HexValue(path[i + 2]));
                if (value == '/')
                {
                    bytes[length++] = b; // %2F stays encoded, as in Kestrel
                    continue;
                }
                if (value == 0)
                {
                    ok = false;
                    return 0;
                }
                bytes[length++] = value;
                i += 2;
                continue;
            }
            bytes[length++] = b;
        }
        var decoded = bytes[..length];
        if (HasDotSegment(decoded))
        {
            ok = false;
            return 0;
        }
        if (Utf8.ToUtf16(decoded, _chars, out _, out var written, replaceInvalidSequences: false) != OperationStatus.Done)
        {
            ok = false;
            return 0;
        }
        return written;
    }

    private static int HexValue(byte b) => b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;

    private static bool HasDotSegment(ReadOnlySpan<byte> path)
    {
        var start = 0;
        while (start < path.Length)
        {
            var next = path[(start + 1)..].IndexOf((byte)'/');
            var segment = next < 0 ? path[(start + 1)..] : path[(start + 1)..(start + 1 + next)];
            if (segment.SequenceEqual("."u8) || segment.SequenceEqual(".."u8))
            {
                return true;
            }
            if (next < 0)
            {
                break;
            }
            start += 1 + next;
        }
        return false;
    }

    private PickContext ReadInputs(PickInputs inputs, int pathLength)
    {
        // Path and query as the ASP.NET Core path gives them (decoded path; raw query with its '?'), for the uri and
        // url_param hash policies; strings only for policies that declared them.
        var path = inputs.Path ? new string(_chars, 0, pathLength) : null;
        string? query = null;
        if (inputs.Query)
        {
            var target = _req.Target;
            var mark = target.IndexOf((byte)'?');
            query = mark >= 0 ? Encoding.Latin1.GetString(target[mark..]) : "";
        }
        IPAddress? clientAddress = null, localAddress = null;
        int clientPort = 0, localPort = 0;
        string? cookie = null, header = null;
        if (inputs.ClientAddress)
        {
            (clientAddress, clientPort) = _proxy.Clients.Resolve(_remote?.Address, _remote?.Port ?? 0, HeaderString(HeaderKind.Forwarded, default), HeaderString(HeaderKind.XForwardedFor, default));
        }
        if (inputs.LocalAddress)
        {
            localAddress = _local?.Address;
            localPort = _local?.Port ?? 0;
        }
        if (inputs.CookieName is { } cookieName)
        {
            cookie = FindCookie(cookieName);
        }
        if (inputs.HeaderName is { } headerName)
        {
            header = HeaderString(HeaderKind.Other, headerName);
        }
        return new PickContext
        {
            ClientAddress = clientAddress,
            ClientPort = clientPort,
            LocalAddress = localAddress,
            LocalPort = localPort,
            Protocol = inputs.Protocol ? (_req.Http10 ? "HTTP/1.0" : "HTTP/1.1") : null,
            CookieValue = cookie,
            HeaderValue = header,
            Path = path,
            Query = query,
        };
    }

    /// <summary>The values of a header joined with ", " (allocates; only for policies that read it), or null.</summary>
    private string? HeaderString(HeaderKind kind, string? name)
    {
        string? joined = null;
        for (var i = 0; i < _req.HeaderCount; i++)
        {
            ref readonly var h = ref _req.Headers[i];
            var matches = name is null ? h.Kind == kind : Ascii.EqualsIgnoreCase(_req.Name(h), name);
            if (matches)
            {
                var value = Encoding.Latin1.GetString(_req.Value(h));
                joined = joined is null ? value : joined + ", " + value;
            }
        }
        return joined;
    }

    private string? FindCookie(string cookieName)
    {
        for (var i = 0; i < _req.HeaderCount; i++)
        {
            ref readonly var h = ref _req.Headers[i];
            if (h.Kind != HeaderKind.Cookie)
            {
                continue;
            }
            var value = _req.Value(h);
            foreach (var range in value.Split((byte)';'))
            {
                var pair = value[range].Trim(" \t"u8);
                var eq = pair.IndexOf((byte)'=');
                if (eq > 0 && Ascii.Equals(pair[..eq], cookieName))
                {
                    var v = pair[(eq + 1)..];
                    if (v.Length >= 2 && v[0] == '"' && v[^1] == '"')
                    {
                        v = v[1..^1];
                    }
                    return Encoding.Latin1.GetString(v);
                }
            }
        }
        return null;
    }

    private void LogAccess(string? routeId, UpstreamTarget? target, double durationMs)
    {
        var method = Encoding.ASCII.GetString(_req.Method);
        var host = Encoding.Latin1.GetString(_req.HostValue);
        var path = Encoding.Latin1.GetString(_req.Target[.._req.PathLength]);
        var client = _remote?.Address is { } a ? (a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).ToString() : "-";
        if (_proxy.AccessLog is { } log)
        {
            ProxyHandler.LogAccess(log, method, host, path, _status, routeId ?? "-", target?.Address ?? "-", durationMs, client);
        }
        else if (_proxy.JsonLog is { } json)
        {
            var query = _req.PathLength < _req.TargetLength ? Encoding.Latin1.GetString(_req.Target[_req.PathLength..]) : "";
            json.Write(client, method, host, path, query, _status, _req.Chunked ? null : Math.Max(0, _req.ContentLength),
                _bytesOut < 0 ? null : _bytesOut, routeId, target?.Address, durationMs,
                _headersAt == 0 ? null : Stopwatch.GetElapsedTime(_sentAt, _headersAt).TotalMilliseconds,
                _endedAt == 0 ? null : Stopwatch.GetElapsedTime(_sentAt, _endedAt).TotalMilliseconds,
                HeaderString(HeaderKind.Other, "User-Agent") ?? "",
                _connectTicks < 0 ? null : Stopwatch.GetElapsedTime(0, _connectTicks).TotalMilliseconds);
        }
    }
}

/// <summary>A connection's head, header and path buffers, reused by the next connection (a connection per request allocates none).</summary>
internal sealed class ConnectionBuffers(FastLimits limits)
{
    public FastLimits Limits { get; } = limits;

    public HttpHead Request { get; } = new(limits.MaxRequestLine + limits.MaxRequestHeadersTotal + 4, limits.MaxRequestHeaderCount);

    public HttpHead Response { get; } = new(FastConnection.MaxResponseHead, 256);

    public char[] Chars { get; } = new char[limits.MaxRequestLine];

    public byte[] PathBytes { get; } = new byte[limits.MaxRequestLine];
}

/// <summary>The error bodies of <see cref="ProxyHandler"/>, word for word.</summary>
internal static class ErrorBodies
{
    public const string NoRoute = "no matching route";
    public const string NoPool = "matched upstream pool does not exist";
    public const string NoHealthy = "matched upstream pool has no healthy targets";
    public const string QueueFull = "every target of the matched upstream pool is at max_connections and the pool's queue is full (queue_size)";
    public const string QueueTimedOut = "every target of the matched upstream pool stayed at max_connections for the pool's queue_timeout";
    public const string ClientTimeout = "client timeout: the request body stopped arriving (route client_timeout)";
    public const string Timeout = "proxy upstream timeout: the upstream did not respond in time (the route's server_timeout or the pool's response_timeout)";
    public const string Connect = "CONNECT is not supported: Lb is a reverse proxy, not a forward proxy";
    public const string AllowHeader = "Allow: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE\r\n";
}
