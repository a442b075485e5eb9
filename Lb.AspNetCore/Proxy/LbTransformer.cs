using System.Net.Http.Headers;
using Lb.Balancing;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace Lb.AspNetCore.Proxy;

/// <summary>
/// Request/response header rules: keep the client's Host, append the peer to X-Forwarded-For, set
/// X-Forwarded-Proto/Host and the node id header; add the sticky cookie after the upstream's own headers.
/// </summary>
internal sealed class LbTransformer(string? nodeId, string nodeHeader) : HttpTransformer
{

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        var request = httpContext.Request;
        var headers = proxyRequest.Headers;

        // The reference passes Host through unchanged: backends see the name the client asked for.
        headers.Host = request.Host.Value;

        // Headers the client named in Connection are for this hop only (RFC 9110 §7.6.1); YARP drops the fixed
        // hop-by-hop set but not these. Removed before the proxy adds its own forwarding headers.
        var droppedXff = false;
        foreach (var value in request.Headers.Connection)
        {
            droppedXff |= HopByHop.RemoveListed(value, headers, proxyRequest.Content?.Headers);
        }

        var peer = httpContext.Connection.RemoteIpAddress;
        if (peer is not null)
        {
            if (peer.IsIPv4MappedToIPv6)
            {
                peer = peer.MapToIPv4();
            }
            var incoming = droppedXff ? default : request.Headers["X-Forwarded-For"];
            headers.Remove("X-Forwarded-For");
            headers.TryAddWithoutValidation("X-Forwarded-For", incoming.Count == 0 ? peer.ToString() : $"{incoming}, {peer}");
        }
        headers.Remove("X-Forwarded-Proto");
        headers.TryAddWithoutValidation("X-Forwarded-Proto", request.Scheme);
        headers.Remove("X-Forwarded-Host");
        headers.TryAddWithoutValidation("X-Forwarded-Host", request.Host.Value);
        if (httpContext.Features.Get<StickyCookieFeature>() is { RewriteName: { } cookieName, Options.Mode: Lb.Core.Spec.StickyCookieModes.Prefix }
            && headers.TryGetValues(HeaderNames.Cookie, out var cookies))
        {
            // The application gets its own cookie back: the target key Lb prefixed is for Lb only.
            var joined = string.Join("; ", cookies);
            if (StickyCookies.StripPrefix(joined, cookieName) is { } stripped)
            {
                headers.Remove(HeaderNames.Cookie);
                headers.TryAddWithoutValidation(HeaderNames.Cookie, stripped);
            }
        }
        headers.Remove(nodeHeader);
        if (nodeId is not null)
        {
            headers.TryAddWithoutValidation(nodeHeader, nodeId);
        }
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        httpContext.Features.Get<UpstreamTimingFeature>()?.HeadersReceived();
        var proceed = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        if (proxyResponse is { StatusCode: not System.Net.HttpStatusCode.SwitchingProtocols, Content.Headers.ContentLength: null })
        {
            // No declared length (chunked or close-delimited): count the body as the forwarder writes it, for bout.
            httpContext.Response.Body = new CountingBodyStream(httpContext.Response.Body, reads: false);
        }
        if (proxyResponse is not null && proxyResponse.Headers.NonValidated.TryGetValues(HeaderNames.Connection, out var connection))
        {
            // The backend's Connection-listed headers stay between it and the proxy (RFC 9110 §7.6.1).
            foreach (var value in connection)
            {
                HopByHop.RemoveListed(value, httpContext.Response.Headers);
            }
        }
        if (httpContext.Features.Get<StickyCookieFeature>() is { } sticky)
        {
            if (sticky.SetCookie is { } setCookie)
            {
                httpContext.Response.Headers.Append(HeaderNames.SetCookie, setCookie);
            }
            else if (sticky is { RewriteName: { } name, Key: { } key, Options: { } options })
            {
                var values = httpContext.Response.Headers.SetCookie;
                string[]? rewritten = null;
                for (var i = 0; i < values.Count; i++)
                {
                    if (StickyCookies.RewriteSetCookie(values[i]!, name, key, options) is { } replaced)
                    {
                        rewritten ??= values.ToArray()!;
                        rewritten[i] = replaced;
                    }
                }
                if (rewritten is not null)
                {
                    httpContext.Response.Headers.SetCookie = rewritten;
                }
            }
        }
        return proceed;
    }
}

/// <summary>
/// Carries what a sticky pick asked for to the transforms: the Set-Cookie to add (<c>insert</c>), or the application
/// cookie to re-key with the target's key (<c>prefix</c>: also stripped from the request; <c>rewrite</c>).
/// </summary>
internal sealed class StickyCookieFeature(string? setCookie)
{
    public string? SetCookie { get; } = setCookie;

    public string? RewriteName { get; init; }

    public string? Key { get; init; }

    public Lb.Core.Spec.StickyCookieSpec? Options { get; init; }
}

/// <summary>
/// When the last attempt's request went to the target, its response headers came back and it ended (Stopwatch
/// timestamps), for the access log's <c>upstream_response_ms</c> and <c>upstream_ms</c>. Present only with the JSON access log.
/// </summary>
internal sealed class UpstreamTimingFeature
{
    private long _sentAt;
    private long _headersAt;
    private long _endedAt;

    public void Start(long sentAt)
    {
        _sentAt = sentAt;
        _headersAt = 0;
        _endedAt = 0;
    }

    public void HeadersReceived() => _headersAt = System.Diagnostics.Stopwatch.GetTimestamp();

    public void End() => _endedAt = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>Milliseconds from sending to the response headers; null when no response came.</summary>
    public double? ResponseMs => _headersAt == 0 ? null : System.Diagnostics.Stopwatch.GetElapsedTime(_sentAt, _headersAt).TotalMilliseconds;

    /// <summary>Milliseconds from sending to the end of the exchange with the target.</summary>
    public double? TotalMs => _endedAt == 0 ? null : System.Diagnostics.Stopwatch.GetElapsedTime(_sentAt, _endedAt).TotalMilliseconds;
}
