using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>
/// Smoke suite for the Native AOT build of the reference server (the <c>lb</c> executable). <c>./test.sh</c> publishes it
/// once and points <c>LB_AOT_BINARY</c> at it; run on their own, these tests are skipped unless that variable is set.
/// They cover what trimming or AOT could break: JSON (source-generated), options binding, the CLI, metrics, signals.
/// </summary>
public sealed partial class AotBinaryTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [GeneratedRegex(@"lb: listening on (http://\S+)")]
    private static partial Regex ListeningOn();

    private static string Binary()
    {
        var path = Environment.GetEnvironmentVariable("LB_AOT_BINARY");
        if (string.IsNullOrEmpty(path))
        {
            Assert.Skip("LB_AOT_BINARY is not set: ./test.sh publishes the native lb and sets it");
        }
        Assert.True(File.Exists(path), $"LB_AOT_BINARY={path} does not exist");
        return path;
    }

    private ProcessStartInfo NewLb(params string[] args)
    {
        var info = new ProcessStartInfo(Binary()) { WorkingDirectory = _dir.Path, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment.Remove("LB_ADMIN_TOKEN");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return info;
    }

    private async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var process = Process.Start(NewLb(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60)); // a bound for a hung process, not a speed requirement
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    private static async Task WaitUntilRefusedAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
            }
            catch (System.Net.Sockets.SocketException)
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, "the proxy listener still accepts connections 60 s after SIGTERM");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task The_native_lb_serves_takes_a_config_proxies_explains_exports_metrics_and_drains_on_sigterm()
    {
        await using var backend = await TestBackend.StartAsync("aot-backend");
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "app.json"),
            """{"proxyListenAddr":"127.0.0.1:0","dashboardListenAddr":"127.0.0.1:0","raftDataDir":"state","nodeId":"aot-1"}""",
            TestContext.Current.CancellationToken);
        using var server = Process.Start(NewLb("serve", "app.json"))!;
        var output = new ProcessOutput(server);
        try
        {
            var urls = await output.WaitForAsync(ListeningOn(), 2);
            var (proxy, admin) = (urls[0].TrimEnd('/'), urls[1].TrimEnd('/'));

            var config = Path.Combine(_dir.Path, "config.json");
            await File.WriteAllTextAsync(config, Configs.SingleRoute("aot.test", "round_robin", backend), TestContext.Current.CancellationToken);
            var validate = await RunAsync("config", "validate", config);
            Assert.True(validate.Exit == 0, validate.Out + validate.Err);
            var put = await RunAsync("config", "put", config, "--dashboard", admin);
            Assert.True(put.Exit == 0, put.Out + put.Err + output);
            Assert.Contains("\"version\":1", put.Out, StringComparison.Ordinal);

            using var client = new HttpClient { BaseAddress = new Uri(proxy), Timeout = TimeSpan.FromSeconds(60) };
            using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/info"))
            {
                request.Headers.Host = "aot.test";
                using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Contains("\"lb_node\":\"aot-1\"", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
            }

            var explain = await RunAsync("config", "explain", "--host", "aot.test", "--path", "/x", "--dashboard", admin);
            Assert.True(explain.Exit == 0, explain.Out + explain.Err);
            Assert.Contains("\"r1\"", explain.Out, StringComparison.Ordinal);

            using var adminClient = new HttpClient { BaseAddress = new Uri(admin) };
            var metrics = await adminClient.GetStringAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
            Assert.Contains("lb_proxy_requests_total{route=\"r1\",status_class=\"2xx\"} 1", metrics, StringComparison.Ordinal);

            // Drain: a request in flight when SIGTERM arrives still gets its answer, then the process exits 0.
            using var held = new HttpRequestMessage(HttpMethod.Get, "/hold");
            held.Headers.Host = "aot.test";
            var inFlight = client.SendAsync(held, TestContext.Current.CancellationToken);
            await backend.WaitForHeldAsync();
            Signals.Send(server, Signals.SigTerm);
            await WaitUntilRefusedAsync(new Uri(proxy).Port); // shutdown has begun: no new connections
            Assert.False(inFlight.IsCompleted);
            backend.ReleaseHeld();
            using (var response = await inFlight)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("aot-backend", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            }
            await server.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            Assert.True(server.ExitCode == 0, output.ToString());
            Assert.Contains("lb: stopped", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill();
            }
        }
    }
}
