using System.Diagnostics;
using System.Net;
using Lb.AspNetCore.Diagnostics;
using Lb.AspNetCore.Options;
using Lb.AspNetCore.Runtime;
using Lb.Balancing;
using Lb.Core.Spec;
using Lb.Core.Options;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Lb.AspNetCore.Proxy;

/// <summary>
/// The data path: one snapshot read, route match, balancer pick, forward with YARP's <see cref="IHttpForwarder"/>,
/// then the outcome feeds least-connection counts and passive health. Errors are short text bodies.
/// </summary>
internal sealed partial class ProxyHandler(
    HttpForwardingTable runtime,
    IHttpForwarder forwarder,
    ClientAddressResolver clients,
    ProxyMetrics metrics,
    IOptions<LbNodeOptions> options,
    IOptions<ProxyOptions> proxyOptions,
    ILoggerFactory loggerFactory) : IAsyncDisposable, IDisposable
{
    private readonly LbTransformer _transformer = new(options.Value.NodeId.Length > 0 ? options.Value.NodeId : null,
        options.Value.NodeHeader.Length > 0 ? options.Value.NodeHeader : LbNodeOptions.DefaultNodeHeader);
    private readonly ILogger? _accessLog = proxyOptions.Value.AccessLog && proxyOptions.Value.AccessLogFormat != "json" ? loggerFactory.CreateLogger("Lb.AccessLog") : null;
    private readonly JsonAccessLog? _jsonLog = proxyOptions.Value.AccessLog && proxyOptions.Value.AccessLogFormat == "json" ? new JsonAccessLog(proxyOptions.Value.AccessLogPath) : null;

    /// <summary>The text access log, shared with the fast path; null when off or JSON.</summary>
    internal ILogger? TextAccessLog => _accessLog;

    /// <summary>The JSON access log, shared with the fast path so both write one file; null when off or text.</summary>
    internal JsonAccessLog? JsonAccessLog => _jsonLog;

    public ValueTask DisposeAsync() => _jsonLog?.DisposeAsync() ?? ValueTask.CompletedTask;

    // A container disposed synchronously still flushes the JSON access log.
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async Task InvokeAsync(HttpContext context)
    {
        var started = _accessLog is null && _jsonLog is null ? metrics.Start() : Stopwatch.GetTimestamp();
        var (routeId, target) = await HandleAsync(context);
        metrics.Request(routeId, context.Response.StatusCode, started);
        if (_accessLog is not null)
        {
            var request = context.Request;
            LogAccess(_accessLog, request.Method, request.Host.Value ?? "", request.Path.Value ?? "/", context.Response.StatusCode,
                routeId ?? "-", target?.Address ?? "-", Stopwatch.GetElapsedTime(started).TotalMilliseconds, context.Connection.RemoteIpAddress?.ToString() ?? "-");
        }
        else if (_jsonLog is not null)
        {
            _jsonLog.Write(context, context.Connection.RemoteIpAddress?.ToString() ?? "", routeId, target?.Address, Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                context.Features.Get<UpstreamTimingFeature>());
        }
    }

    /// <summary>Serves one request; returns the matched route and the last target tried, for metrics and the access log.</summary>
    private async ValueTask<(string? RouteId, UpstreamTarget? Target)> HandleAsync(HttpContext context)
    {
        var http = runtime.Current;
        var snapshot = http.Snapshot;
        var request = context.Request;
        if (HttpMethods.IsConnect(request.Method))
        {
            // A tunnel request is for a forward proxy; no backend could answer it (it reached them as a 502 before).
            context.Response.Headers.Allow = "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE";
            await ErrorAsync(context, StatusCodes.Status405MethodNotAllowed, "CONNECT is not supported: Lb is a reverse proxy, not a forward proxy");
            return (null, null);
        }
        var path = request.Path.Value;
        var route = snapshot.Routes.Match(request.Host.Value.AsSpan(), string.IsNullOrEmpty(path) ? "/" : path);
        if (route is null)
        {
            await ErrorAsync(context, StatusCodes.Status404NotFound, "no matching route");
            return (null, null);
        }

        var rt = snapshot.RouteRuntimes[route.Slot];
        if (rt.MaxRequestBodySize is { } maxBody && !ApplyBodyLimit(context, maxBody))
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            context.Response.Headers.Connection = "close";
            return (route.Id, null);
        }
        if (rt.ChecksHeaders && !HeadersWithin(request, rt))
        {
            context.Response.StatusCode = StatusCodes.Status431RequestHeaderFieldsTooLarge;
            context.Response.Headers.Connection = "close";
            return (route.Id, null);
        }
        if (rt.Balancer is null)
        {
            await ErrorAsync(context, StatusCodes.Status502BadGateway, "matched upstream pool does not exist");
            return (route.Id, null);
        }
        var forwarding = http.Routes[route.Slot] ?? http.Pools[rt.PoolIndex];
        if (rt.ClientTimeout > TimeSpan.Zero && HasBody(request))
        {
            request.Body = new ClientIdleTimeoutStream(request.Body, rt.ClientTimeout);
        }
        if (request.ContentLength is null && HasBody(request))
        {
            request.Body = new CountingBodyStream(request.Body, reads: true); // chunked: bin counts what really passed
        }

        // The policy declared what it reads; nothing else is fetched (resolving the client behind trusted proxies and
        // parsing cookies are wasted work for policies that do not look at them).
        var pickContext = rt.Inputs.ReadsRequest ? ReadInputs(context, rt.Inputs) : default;

        var pick = rt.Balancer.Pick(in pickContext);
        if (pick.Target is null && rt.Pool!.AllAtLimit)
        {
            var pool = rt.Pool;
            QueueResult result;
            try
            {
                (result, pick) = await pool.Queue.WaitAsync(rt.Balancer, pickContext, pool.QueueSize, pool.QueueTimeout, context.RequestAborted);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                return (route.Id, null); // the client left while queued
            }
            if (result != QueueResult.Picked)
            {
                await ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, result == QueueResult.Full ? FastPath.ErrorBodies.QueueFull : FastPath.ErrorBodies.QueueTimedOut);
                return (route.Id, null);
            }
        }
        if (pick.Target is null)
        {
            await ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "matched upstream pool has no healthy targets");
            return (route.Id, null);
        }

        var outcome = await ForwardAsync(context, rt, forwarding, pick, mayRetry: true);
        if (outcome.Retry && !context.Response.HasStarted)
        {
            // Nothing reached the upstream and nothing reached the client: another target gets the request once.
            var retry = rt.Balancer.Pick(pickContext with { Exclude = pick.Target });
            if (retry.Target is not null && !ReferenceEquals(retry.Target, pick.Target))
            {
                context.Response.StatusCode = StatusCodes.Status200OK;
                context.Features.Set<IForwarderErrorFeature>(null);
                await ForwardAsync(context, rt, forwarding, retry, mayRetry: false);
                return (route.Id, retry.Target);
            }
            else
            {
                retry.Target?.Complete(RequestOutcome.ClientAborted); // neutral: releases the slot without touching passive health
                await WriteForwardErrorAsync(context, outcome.Error);
            }
        }
        return (route.Id, pick.Target);
    }

    /// <summary>
    /// Forwards to the picked target. Returns Retry=true, without answering the client, only when
    /// <paramref name="mayRetry"/> and the connection was refused before anything was sent; otherwise any failure has
    /// been answered.
    /// </summary>
    private async Task<(bool Retry, ForwarderError Error)> ForwardAsync(HttpContext context, RouteRuntime rt, PoolForwarding forwarding, PickResult pick, bool mayRetry)
    {
        var target = pick.Target!;
        if (pick.SetCookieValue is { } cookieValue && rt.Inputs.CookieName is { } cookieName)
        {
            var sticky = rt.Route.Spec.StickyCookie;
            context.Features.Set(sticky?.Mode is StickyCookieModes.Prefix or StickyCookieModes.Rewrite
                ? new StickyCookieFeature(null) { RewriteName = cookieName, Key = cookieValue, Options = sticky }
                : new StickyCookieFeature(StickyCookies.FormatSetCookie(cookieName, cookieValue, sticky)));
        }
        var outcome = RequestOutcome.OtherFailure;
        var sentAt = Stopwatch.GetTimestamp();
        if (_jsonLog is not null)
        {
            // Only the access log reads the upstream timings; without it nothing is allocated for them.
            var timing = context.Features.Get<UpstreamTimingFeature>() ?? new UpstreamTimingFeature();
            timing.Start(sentAt);
            context.Features.Set(timing);
        }
        var status = 0;
        try
        {
            var error = await forwarder.SendAsync(context, forwarding.Destinations[target], forwarding.Invoker, forwarding.RequestConfig, _transformer);
            outcome = Classify(context, error);
            status = error == ForwarderError.None || context.Response.HasStarted ? context.Response.StatusCode : 0;
            var canRetry = mayRetry && error == ForwarderError.Request && IsConnectFailure(context) && !HasBody(context.Request);
            if (error != ForwarderError.None && !canRetry)
            {
                await WriteForwardErrorAsync(context, error);
            }
            return (canRetry, error);
        }
        finally
        {
            if (status != 0)
            {
                // Declared lengths are exact for a completed exchange; bodies without one were counted as they streamed.
                target.AddBytes(
                    context.Request.Body is CountingBodyStream sent ? sent.Count : context.Request.ContentLength ?? 0,
                    context.Response.Body is CountingBodyStream received ? received.Count : context.Response.ContentLength ?? 0);
            }
            target.Complete(outcome);
            metrics.Upstream(rt.Pool!.Id, target.Address, status, sentAt);
            if (_jsonLog is not null)
            {
                context.Features.Get<UpstreamTimingFeature>()?.End();
            }
        }
    }

    private PickContext ReadInputs(HttpContext context, PickInputs inputs)
    {
        IPAddress? clientAddress = null, localAddress = null;
        int clientPort = 0, localPort = 0;
        string? cookie = null, header = null;
        if (inputs.ClientAddress)
        {
            (clientAddress, clientPort) = clients.Resolve(context);
        }
        if (inputs.LocalAddress)
        {
            localAddress = context.Connection.LocalIpAddress;
            localPort = context.Connection.LocalPort;
        }
        if (inputs.CookieName is { } cookieName)
        {
            context.Request.Cookies.TryGetValue(cookieName, out cookie);
        }
        if (inputs.HeaderName is { } headerName)
        {
            var values = context.Request.Headers[headerName];
            header = values.Count switch
            {
                0 => null,
                1 => values[0],
                _ => values.ToString(),
            };
        }
        return new PickContext
        {
            ClientAddress = clientAddress,
            ClientPort = clientPort,
            LocalAddress = localAddress,
            LocalPort = localPort,
            Protocol = inputs.Protocol ? context.Request.Protocol : null,
            CookieValue = cookie,
            HeaderValue = header,
            Path = inputs.Path ? context.Request.Path.Value : null,
            Query = inputs.Query ? context.Request.QueryString.Value : null,
        };
    }

    private static RequestOutcome Classify(HttpContext context, ForwarderError error) => error switch
    {
        ForwarderError.None => context.Response.StatusCode >= 500 ? RequestOutcome.ServerError5xx : RequestOutcome.Success,
        ForwarderError.Request when IsConnectFailure(context) => RequestOutcome.ConnectFailure,
        ForwarderError.RequestTimedOut => RequestOutcome.Timeout,
        ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled or ForwarderError.UpgradeRequestCanceled
            or ForwarderError.UpgradeResponseCanceled or ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyClient
            or ForwarderError.UpgradeRequestClient or ForwarderError.UpgradeResponseClient => RequestOutcome.ClientAborted,
        _ => RequestOutcome.OtherFailure,
    };

    private static bool IsConnectFailure(HttpContext context)
    {
        for (var ex = context.Features.Get<IForwarderErrorFeature>()?.Exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is System.Net.Sockets.SocketException)
            {
                return true;
            }
            if (ex is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError })
            {
                return true;
            }
        }
        return false;
    }

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);

    private static Task WriteForwardErrorAsync(HttpContext context, ForwarderError error)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask; // the status line is out; the forwarder has already aborted the response
        }
        if (error == ForwarderError.RequestTimedOut)
        {
            return ErrorAsync(context, StatusCodes.Status504GatewayTimeout, FastPath.ErrorBodies.Timeout);
        }
        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        if (error == ForwarderError.RequestBodyClient && FindBadRequest(exception) is { StatusCode: StatusCodes.Status408RequestTimeout })
        {
            return ErrorAsync(context, StatusCodes.Status408RequestTimeout, FastPath.ErrorBodies.ClientTimeout);
        }
        if (error == ForwarderError.RequestBodyClient && FindBadRequest(exception) is { StatusCode: StatusCodes.Status413PayloadTooLarge })
        {
            context.Response.Headers.Connection = "close";
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return Task.CompletedTask;
        }
        if (error == ForwarderError.RequestBodyClient)
        {
            return ErrorAsync(context, StatusCodes.Status400BadRequest, "bad request body: " + ClientBodyProblem(exception));
        }
        var detail = exception switch
        {
            null => error.ToString(),
            HttpRequestException { InnerException: { } inner } => inner.Message,
            _ => exception.Message,
        };
        // Client cancellations get the same status the forwarder chose; nobody reads the body.
        return ErrorAsync(context, context.Response.StatusCode is >= 400 and not 502 ? context.Response.StatusCode : StatusCodes.Status502BadGateway, "proxy upstream error: " + detail);
    }

    private static Microsoft.AspNetCore.Http.BadHttpRequestException? FindBadRequest(Exception? ex) => ex switch
    {
        null => null,
        Microsoft.AspNetCore.Http.BadHttpRequestException bad => bad,
        AggregateException aggregate => aggregate.InnerExceptions.Select(FindBadRequest).FirstOrDefault(e => e is not null),
        _ => FindBadRequest(ex.InnerException),
    };

    /// <summary>
    /// The route's body limit: a declared length over it is refused before anything is forwarded (false); otherwise
    /// the server enforces it while the body streams (a chunked body over it ends in 413).
    /// </summary>
    private static bool ApplyBodyLimit(HttpContext context, long max)
    {
        if (context.Request.ContentLength > max)
        {
            return false;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = max;
        }
        return true;
    }

    /// <summary>The route's header limits: count of fields, total size of names and values.</summary>
    private static bool HeadersWithin(HttpRequest request, RouteRuntime rt)
    {
        var count = 0;
        long size = 0;
        foreach (var (name, values) in request.Headers)
        {
            foreach (var value in values)
            {
                count++;
                size += name.Length + (value?.Length ?? 0);
            }
        }
        return (rt.MaxRequestHeaderCount == 0 || count <= rt.MaxRequestHeaderCount)
            && (rt.MaxRequestHeadersSize == 0 || size <= rt.MaxRequestHeadersSize);
    }

    /// <summary>What was wrong with the client's body, in plain words instead of the server's exception text.</summary>
    private static string ClientBodyProblem(Exception? exception)
    {
        var bad = FindBadRequest(exception);
        var message = bad?.Message ?? "";
        if (message.Contains("chunk", StringComparison.OrdinalIgnoreCase))
        {
            return "invalid chunked encoding: each chunk must start with its size in hexadecimal digits followed by CRLF";
        }
        if (message.Contains("end of request content", StringComparison.OrdinalIgnoreCase))
        {
            return "the body ended before the length the request announced";
        }
        if (message.Contains("too large", StringComparison.OrdinalIgnoreCase))
        {
            return "the body is larger than this listener accepts";
        }
        return "the body could not be read from the client";
    }

    [LoggerMessage(EventId = 6101, Level = LogLevel.Information, Message = "{Method} {Host}{Path} {Status} route={Route} target={Target} {DurationMs:0.###}ms client={Client}")]
    internal static partial void LogAccess(ILogger logger, string method, string host, string path, int status, string route, string target, double durationMs, string client);

    private static Task ErrorAsync(HttpContext context, int status, string message)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        response.Headers.XContentTypeOptions = "nosniff";
        return response.WriteAsync(message + "\n", context.RequestAborted);
    }
}
