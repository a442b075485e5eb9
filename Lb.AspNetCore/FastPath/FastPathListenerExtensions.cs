using System.Net;
using Lb.AspNetCore.FastPath;
using Lb.AspNetCore.FastPath.Loop;
using Lb.AspNetCore.Options;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

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
        listen.Use(next =>
        {
            var proxy = listen.ApplicationServices.GetRequiredService<FastPathProxy>();
            if (proxy.Enabled && listen.EndPoint is LoopEndPoint onLoop)
            {
                onLoop.FastPath = true;
            }
            return proxy.Wrap(next, listen.KestrelServerOptions);
        });
        return listen;
    }

    /// <summary>
    /// Makes Lb's I/O loop available to Kestrel as a transport for addresses bound with <see cref="ListenLoadBalancerProxy"/>
    /// (every other listener keeps the socket transport). Call it after <c>UseKestrel</c>/<c>UseSockets</c>: Kestrel asks
    /// the transport registered last first. Does nothing on other operating systems than Linux.
    /// </summary>
    public static IWebHostBuilder UseLoadBalancerIoLoop(this IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (IoLoop.IsSupported)
        {
            builder.ConfigureServices(services => services.AddSingleton<IConnectionListenerFactory, LoopTransportFactory>());
        }
        return builder;
    }

    /// <summary>
    /// Binds the proxy listener on <paramref name="address"/>:<paramref name="port"/>. With <c>fastPath</c> and <c>ioLoop</c>
    /// on (<see cref="ProxyOptions.IoLoop"/>), on Linux, and <see cref="UseLoadBalancerIoLoop"/> called, its connections
    /// run on Lb's epoll loops; otherwise on Kestrel's socket transport, as <c>Listen(address, port, configure)</c>.
    /// <see cref="IPAddress.IPv6Any"/> listens on IPv4 too, as <c>ListenAnyIP</c> does.
    /// </summary>
    public static KestrelServerOptions ListenLoadBalancerProxy(this KestrelServerOptions kestrel, IPAddress address, int port, Action<ListenOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(configure);
        var options = kestrel.ApplicationServices?.GetService<IOptions<ProxyOptions>>()?.Value;
        var onLoop = IoLoop.IsSupported && options is { FastPath: true, IoLoop: true }
            && kestrel.ApplicationServices!.GetServices<IConnectionListenerFactory>().Any(f => f is LoopTransportFactory);
        if (!onLoop)
        {
            kestrel.Listen(address, port, configure);
            return kestrel;
        }
        var endPoint = new LoopEndPoint(address, port);
        kestrel.Listen(endPoint, listen =>
        {
            // First on the listener, so Kestrel hands this factory the rest of the chain, its HTTP server included.
            listen.Use(chain =>
            {
                endPoint.Direct = endPoint.FastPath && (listen.Protocols & HttpProtocols.Http2) == 0 ? chain : null;
                return chain;
            });
            configure(listen);
        });
        return kestrel;
    }
}
