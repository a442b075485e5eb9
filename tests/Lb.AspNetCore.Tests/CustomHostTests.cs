using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Lb.TestSupport;

namespace Lb.AspNetCore.Tests;

public abstract partial class CustomHostTests(ProxyPath path) : ProxyPathTests(path), IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningOn();

    [Fact]
    public async Task The_readme_example_host_serves_admin_and_metrics_only_on_its_admin_listener_and_proxies_traffic()
    {
        await using var backend = await TestBackend.StartAsync("custom-backend");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir.Path };
        info.ArgumentList.Add(RepoPaths.BuiltDll(Path.Combine("samples", "CustomHost"), "CustomHost.dll"));
        info.ArgumentList.Add("--Lb:ProxyPort=0");
        info.ArgumentList.Add("--Lb:AdminPort=0");
        info.ArgumentList.Add($"--Lb:FastPath={(TestedPath == ProxyPath.Fast ? "true" : "false")}");
        info.ArgumentList.Add($"--Lb:RaftDataDir={_dir.Path}");
        info.ArgumentList.Add("--Logging:LogLevel:Default=Warning");
        info.ArgumentList.Add("--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information"); // prints the port the OS chose
        using var host = Process.Start(info)!;
        var output = new ProcessOutput(host);
        try
        {
            // Proxy listener first (all interfaces), admin listener second (loopback).
            var urls = await output.WaitForAsync(ListeningOn(), 2);
            using var proxy = new HttpClient { BaseAddress = new Uri(urls[0].Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal)), Timeout = TimeSpan.FromSeconds(10) };
            using var client = new HttpClient { BaseAddress = new Uri(urls[1]), Timeout = TimeSpan.FromSeconds(10) };
            var deadline = DateTime.UtcNow.AddSeconds(30);
            HttpResponseMessage? put = null;
            var config = """{"routes":[{"id":"r","enabled":true,"match":{"hosts":["app.test"]},"upstream_pool":"p"}],"upstream_pools":{"p":{"upstreams":["ADDRESS"]}}}""".Replace("ADDRESS", backend.Address, StringComparison.Ordinal);
            while (put is null)
            {
                Assert.False(host.HasExited, "host exited: " + output);
                Assert.True(DateTime.UtcNow < deadline, "host did not answer within 30 s: " + output);
                try
                {
                    put = await client.PutAsync("/api/config", new StringContent(config, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(100, TestContext.Current.CancellationToken);
                }
            }
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            put.Dispose();

            using var request = new HttpRequestMessage(HttpMethod.Get, "/hello");
            request.Headers.Host = "app.test";
            using var proxied = await proxy.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal("custom-backend /hello", await proxied.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

            // On the proxy port, admin paths are ordinary traffic: forwarded to the backend, never the admin API.
            foreach (var path in (string[])["/api/status", "/metrics", "/api/config"])
            {
                using var onProxy = new HttpRequestMessage(HttpMethod.Get, path);
                onProxy.Headers.Host = "app.test";
                using var forwarded = await proxy.SendAsync(onProxy, TestContext.Current.CancellationToken);
                Assert.Equal($"custom-backend {path}", await forwarded.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            }
            using var unrouted = await proxy.GetAsync("/api/status", TestContext.Current.CancellationToken);
            Assert.DoesNotContain("proxy_listen_addr", await unrouted.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);

            // The admin status reports the listeners this host really bound, not the boot file's defaults.
            using var status = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/api/status", TestContext.Current.CancellationToken));
            var node = status.RootElement.GetProperty("node");
            Assert.Equal([urls[0]], node.GetProperty("listeners").GetProperty("proxy").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal([urls[1]], node.GetProperty("listeners").GetProperty("admin").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(new Uri(urls[0]).Authority, node.GetProperty("proxy_listen_addr").GetString());
            Assert.Equal(new Uri(urls[1]).Authority, node.GetProperty("dashboard_listen_addr").GetString());

            using var metrics = await client.GetAsync("/metrics", TestContext.Current.CancellationToken);
            Assert.Contains("lb_proxy_requests_total{route=\"r\",status_class=\"2xx\"} 4", await metrics.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        }
        finally
        {
            host.Kill();
            await host.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }
}

public sealed class CustomHostTestsOnYarpPath() : CustomHostTests(ProxyPath.Yarp);

public sealed class CustomHostTestsOnFastPath() : CustomHostTests(ProxyPath.Fast);
