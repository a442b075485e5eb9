namespace Lb.AspNetCore.Options;

/// <summary>
/// The proxy listener's behaviour (<c>app.json</c> keys <c>trustedProxies</c>, <c>accessLog</c>, <c>accessLogFormat</c>, <c>accessLogPath</c>, <c>proxyTlsCertificate</c>,
/// <c>proxyTlsKey</c>, <c>fastPath</c>), bound from the section given to <c>AddLoadBalancer</c> and validated on start by <c>AddAspNetCore()</c>.
/// </summary>
public sealed class ProxyOptions
{
    /// <summary>
    /// Addresses or CIDR ranges of proxies in front of Lb whose <c>X-Forwarded-For</c>/<c>Forwarded</c> headers are
    /// believed. Empty: forwarding headers never choose the client address (they cannot be spoofed).
    /// </summary>
    public IList<string> TrustedProxies { get; set; } = [];

    /// <summary>Log one line per proxied request (category <c>Lb.AccessLog</c>, level Information). Off by default: it costs CPU.</summary>
    public bool AccessLog { get; set; }

    /// <summary><c>text</c> (default: one log line through the logger) or <c>json</c> (one JSON object per line).</summary>
    public string AccessLogFormat { get; set; } = "text";

    /// <summary>With <c>json</c>: the file the access log is appended to; empty means standard output.</summary>
    public string AccessLogPath { get; set; } = "";

    /// <summary>
    /// PEM certificate (chain) file for TLS on the proxy listener. With <see cref="ProxyTlsKey"/> set too, the host
    /// serves HTTPS and offers HTTP/2 to clients (ALPN); without, plain HTTP/1.1.
    /// </summary>
    public string ProxyTlsCertificate { get; set; } = "";

    /// <summary>PEM private key file matching <see cref="ProxyTlsCertificate"/>.</summary>
    public string ProxyTlsKey { get; set; } = "";

    /// <summary>
    /// Serve HTTP/1.x on the proxy listener through Lb's connection-level proxy (request heads parsed by Lb, pooled
    /// upstream connections, bytes copied through) instead of the ASP.NET Core + forwarder path. HTTP/2 always takes
    /// the ASP.NET Core path. Takes effect on listeners that call <c>UseLoadBalancerProxy()</c>. Off by default. Issue #16.
    /// </summary>
    public bool FastPath { get; set; }
}
