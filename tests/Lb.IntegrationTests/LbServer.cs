using System.Net.Http.Json;
using System.Text;
using Lb.AspNetCore.Options;
using Lb.Core.Admin;
using Lb.Core.Options;
using Lb.Server;
using Lb.TestSupport;
using Microsoft.AspNetCore.Builder;

namespace Lb.IntegrationTests;

/// <summary>
/// The reference server's real composition (file store, Kestrel on 127.0.0.1 port 0 for proxy and admin) running in
/// the test process, with clients for both listeners.
/// </summary>
internal sealed class LbServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TempDirectory? _ownedDir;

    private LbServer(WebApplication app, TempDirectory? ownedDir, Uri proxy, Uri admin)
    {
        _app = app;
        _ownedDir = ownedDir;
        ProxyUri = proxy;
        AdminUri = admin;
        Proxy = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = proxy, Timeout = TimeSpan.FromSeconds(60) };
        Admin = new HttpClient { BaseAddress = admin, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri ProxyUri { get; }

    public Uri AdminUri { get; }

    public HttpClient Proxy { get; }

    public HttpClient Admin { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<LbServer> StartAsync(Action<LbNodeOptions>? configure = null, string? dataDir = null, Action<AdminOptions>? admin = null, Action<ProxyOptions>? proxy = null, ProxyPath path = ProxyPath.Fast)
    {
        var owned = dataDir is null ? new TempDirectory() : null;
        var node = new LbNodeOptions
        {
            ProxyListenAddr = "127.0.0.1:0",
            DashboardListenAddr = "127.0.0.1:0",
            DataDir = dataDir ?? owned!.Path,
            NodeId = "node-1",
        };
        configure?.Invoke(node);
        var adminOptions = new AdminOptions();
        admin?.Invoke(adminOptions);
        var proxyOptions = new ProxyOptions { FastPath = path != ProxyPath.Yarp, IoLoop = path == ProxyPath.Loop };
        proxy?.Invoke(proxyOptions);
        // The same keys app.json would carry, each package binding its own.
        var values = new[] { BootFile.ToConfiguration(node), BootFile.ToConfiguration(adminOptions), BootFile.ToConfiguration(proxyOptions) }
            .SelectMany(v => v).ToDictionary(v => v.Key, v => v.Value);
        var app = ServeCommand.BuildApp(node, "warning", values);
        await app.StartAsync();
        // Listeners bind in declaration order: proxy first, admin second.
        var urls = app.Urls.Select(u => new Uri(u)).ToArray();
        return new LbServer(app, owned, urls[0], urls[1]);
    }

    /// <summary>PUTs a configuration and fails the test unless it is applied.</summary>
    public async Task PutConfigAsync(string json)
    {
        using var response = await Admin.PutAsync("/api/config", new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"PUT /api/config answered {(int)response.StatusCode}: {body}");
    }

    public async Task<T> GetJsonAsync<T>(string path) => (await Admin.GetFromJsonAsync<T>(path))!;

    public async ValueTask DisposeAsync()
    {
        Proxy.Dispose();
        Admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _ownedDir?.Dispose();
    }
}

/// <summary>Builds configurations for tests.</summary>
internal static class Configs
{
    public static string SingleRoute(string host, string algorithm, params TestBackend[] backends) =>
        SingleRoute(host, algorithm, backends.Select(b => b.Address).ToArray());

    public static string SingleRoute(string host, string algorithm, string[] upstreams, string poolExtras = "")
    {
        var list = string.Join(",", upstreams.Select(u => $"\"{u}\""));
        return "{\"routes\":[{\"id\":\"r1\",\"enabled\":true,\"algorithm\":\"" + algorithm + "\",\"match\":{\"hosts\":[\"" + host
            + "\"]},\"upstream_pool\":\"pool\"}],\"upstream_pools\":{\"pool\":{\"upstreams\":[" + list + "]" + poolExtras + "}}}";
    }
}

internal static class ServiceProviderExtensions
{
    public static string GetDataDir(this IServiceProvider services) =>
        Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Microsoft.Extensions.Options.IOptions<LbNodeOptions>>(services).Value.DataDir;
}
