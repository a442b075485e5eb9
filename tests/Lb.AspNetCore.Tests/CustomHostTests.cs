using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Lb.TestSupport;

namespace Lb.AspNetCore.Tests;

public sealed partial class CustomHostTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningOn();

    [Fact]
    public async Task The_readme_example_host_accepts_config_and_proxies_traffic()
    {
        await using var backend = await TestBackend.StartAsync("custom-backend");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir.Path };
        info.ArgumentList.Add(RepoPaths.BuiltDll(Path.Combine("samples", "CustomHost"), "CustomHost.dll"));
        info.ArgumentList.Add("--urls=http://127.0.0.1:0");
        info.ArgumentList.Add($"--Lb:RaftDataDir={_dir.Path}");
        info.ArgumentList.Add("--Logging:LogLevel:Default=Warning");
        info.ArgumentList.Add("--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information"); // prints the port the OS chose
        using var host = Process.Start(info)!;
        var output = new ProcessOutput(host);
        try
        {
            var url = (await output.WaitForAsync(ListeningOn()))[0];
            using var client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(10) };
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
            using var proxied = await client.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal("custom-backend /hello", await proxied.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

            using var metrics = await client.GetAsync("/metrics", TestContext.Current.CancellationToken);
            Assert.Contains("lb_proxy_requests_total{route=\"r\",status_class=\"2xx\"} 1", await metrics.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        }
        finally
        {
            host.Kill();
            await host.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }
}
