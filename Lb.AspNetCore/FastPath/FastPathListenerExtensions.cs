using Lb.AspNetCore.FastPath;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Puts Lb's connection-level HTTP/1.1 proxy on a Kestrel listener.</summary>
public static class FastPathListenerExtensions
{
    /// <summary>
    /// Serves HTTP/1.x on this listener through Lb's connection-level proxy when <c>fastPath</c> is on
    /// (<see cref="Lb.AspNetCore.Options.ProxyOptions.FastPath"/>); with it off, or for HTTP/2 (ALPN <c>h2</c>), connections go on to
    /// the ASP.NET Core pipeline and <c>MapLoadBalancer()</c>. Call it on the proxy listener, after <c>UseHttps</c> when
    /// the listener terminates TLS (the proxy reads decrypted bytes). Limits and timeouts are Kestrel's
    /// (<c>KestrelServerOptions.Limits</c>: request line, headers, body size, header timeout, keep-alive, minimum body rate, minimum response rate).
    /// </summary>
    public static ListenOptions UseLoadBalancerProxy(this ListenOptions listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        listen.Use(next => listen.ApplicationServices.GetRequiredService<FastPathProxy>().Wrap(next, listen.KestrelServerOptions));
        return listen;
    }
}
