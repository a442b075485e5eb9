namespace Lb.AspNetCore.Options;

/// <summary>
/// The proxy listener's behaviour (<c>app.json</c> keys <c>trustedProxies</c>, <c>accessLog</c>, <c>accessLogFormat</c>, <c>accessLogPath</c>, <c>proxyTlsCertificate</c>,
/// <c>proxyTlsKey</c>, <c>fastPath</c>, <c>inlineIo</c>, <c>ioLoop</c>, <c>minResponseDataRate</c>), bound from the section given to <c>AddLoadBalancer</c> and validated on start by <c>AddAspNetCore()</c>.
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
    /// the ASP.NET Core path. Takes effect on listeners that call <c>UseLoadBalancerProxy()</c>. On by default;
    /// <c>false</c> sends every request through the ASP.NET Core + forwarder path. Issue #16.
    /// </summary>
    public bool FastPath { get; set; } = true;

    /// <summary>
    /// With <see cref="FastPath"/>: the fast path's client and upstream sockets complete their I/O on the socket
    /// engine's threads instead of queueing each completion to the thread pool (about 40 % less CPU per request,
    /// docs/benchmarks.md). Safe because nothing the fast path runs per request blocks; a custom balancing policy on
    /// such a host must not block either. On by default.
    /// </summary>
    public bool InlineIo { get; set; } = true;

    /// <summary>
    /// With <see cref="FastPath"/>, on Linux: the proxy listener's connections, and the upstream connections they use,
    /// run on Lb's own epoll loops (one per usable core) instead of Kestrel's socket transport and the runtime's socket
    /// engine: no thread hand-off per read, no receive that only finds the socket empty. Applies to listeners bound with
    /// <c>ListenLoadBalancerProxy</c> on a host that called <c>UseLoadBalancerIoLoop()</c> (the reference server does both);
    /// other operating systems keep the socket transport. On by default (docs/benchmarks.md, issue #16): fewer system
    /// calls and less CPU per request than the socket transport.
    /// </summary>
    public bool IoLoop { get; set; } = true;

    /// <summary>
    /// Minimum rate, in bytes per second, at which a client must take a response once a write has to wait for it
    /// (after a 5-second grace period), else its connection is closed and the upstream connection released; 0 turns
    /// it off. Applied by the reference server to Kestrel's <c>Limits.MinResponseDataRate</c>, which both proxy paths
    /// obey. Default 240, Kestrel's own.
    /// </summary>
    public int MinResponseDataRate { get; set; } = DefaultMinResponseDataRate;

    /// <summary>Default of <see cref="MinResponseDataRate"/> (Kestrel's).</summary>
    public const int DefaultMinResponseDataRate = 240;
}
