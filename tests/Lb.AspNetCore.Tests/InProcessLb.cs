using System.Net;
using System.Text;
using Lb.Core.DependencyInjection;
using Lb.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lb.AspNetCore.Tests;

/// <summary>
/// The README's host in this process: real Kestrel on 127.0.0.1 (port chosen by the OS), file store in a temp
/// directory, admin API and proxy on the one listener; <c>configure</c> adds policies and the like. On
/// <see cref="ProxyPath.Fast"/> and <see cref="ProxyPath.Loop"/> the proxy gets a listener of its own with <c>UseLoadBalancerProxy()</c> and
/// <c>fastPath</c> on (the connection-level proxy takes every HTTP/1.x request on its listener, so the admin API
/// needs another), as in the CustomHost sample.
/// </summary>
internal sealed class InProcessLb : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TempDirectory? _dir;

    private InProcessLb(WebApplication app, TempDirectory? dir, HttpClient client, HttpClient proxy)
    {
        _app = app;
        _dir = dir;
        Client = client;
        Proxy = proxy;
    }

    /// <summary>The admin API (and, on the YARP path, the proxy too: it is the same listener).</summary>
    public HttpClient Client { get; }

    /// <summary>The proxy listener.</summary>
    public HttpClient Proxy { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts the host; with <paramref name="dataDirectory"/> it uses (and leaves) that store, otherwise a fresh temp one.</summary>
    public static async Task<InProcessLb> StartAsync(Action<ILoadBalancerBuilder>? configure = null, string? dataDirectory = null, ProxyPath path = ProxyPath.Yarp, Action<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>? kestrel = null)
    {
        var dir = dataDirectory is null ? new TempDirectory() : null;
        var dataPath = dataDirectory ?? dir!.Path;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var fast = path != ProxyPath.Yarp;
        builder.WebHost.UseKestrel(k =>
        {
            kestrel?.Invoke(k);
            k.ListenLoadBalancerProxy(IPAddress.Loopback, 0, listen =>
            {
                if (fast)
                {
                    listen.UseLoadBalancerProxy();
                }
            });
            if (fast)
            {
                k.Listen(IPAddress.Loopback, 0);
            }
        });
        builder.WebHost.UseLoadBalancerIoLoop();
        var lb = builder.Services.AddLoadBalancer(configure: o => o.RaftDataDir = dataPath).AddAspNetCore();
        builder.Services.Configure<Lb.AspNetCore.Options.ProxyOptions>(o =>
        {
            o.FastPath = fast;
            o.IoLoop = path == ProxyPath.Loop;
        });
        configure?.Invoke(lb);
        var app = builder.Build();
        app.MapLoadBalancerAdmin();
        app.MapLoadBalancer();
        await app.StartAsync(TestContext.Current.CancellationToken);
        // Listeners bind in declaration order: proxy first, then (fast path) admin.
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToArray();
        var proxy = new HttpClient { BaseAddress = new Uri(addresses[0]), Timeout = TimeSpan.FromSeconds(15) };
        var admin = fast ? new HttpClient { BaseAddress = new Uri(addresses[1]), Timeout = TimeSpan.FromSeconds(15) } : proxy;
        return new InProcessLb(app, dir, admin, proxy);
    }

    public Task<HttpResponseMessage> PutConfigAsync(string json) =>
        Client.PutAsync("/api/config", new StringContent(json, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

    public Task<string> GetStringAsync(string path) => Client.GetStringAsync(path, TestContext.Current.CancellationToken);

    /// <summary>Sends GET <paramref name="path"/> for <paramref name="host"/> through the proxy; returns the answering backend's name (or the status).</summary>
    public async Task<string> ProxyAsync(string host, string path = "/", Action<HttpRequestMessage>? adjust = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = host;
        adjust?.Invoke(request);
        using var response = await Proxy.SendAsync(request, TestContext.Current.CancellationToken);
        return response.Headers.TryGetValues("X-Backend", out var names) ? names.Single() : ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Proxy.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        _dir?.Dispose();
    }
}
