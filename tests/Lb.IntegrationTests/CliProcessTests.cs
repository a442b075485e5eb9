using System.Diagnostics;
using System.Net;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>The reference server run the way an operator runs it: as a separate process driven by its own CLI.</summary>
public sealed class CliProcessTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string ServerDll() => RepoPaths.BuiltDll(Path.Combine("samples", "Lb.Server"), "Lb.Server.dll");

    private static Process Start(string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(ServerDll());
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return Process.Start(info)!;
    }

    private static async Task<(int Exit, string Out, string Err)> RunAsync(string workingDirectory, params string[] args)
    {
        using var process = Start(workingDirectory, args);
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Serve_then_config_put_then_traffic_then_sigterm_exits_cleanly()
    {
        await using var backend = await TestBackend.StartAsync("cli-backend");
        var (server, output, proxy, admin) = await StartServerAsync();
        using var _ = server;
        try
        {
            var config = Path.Combine(_dir.Path, "config.json");
            await File.WriteAllTextAsync(config, Configs.SingleRoute("cli.test", "round_robin", backend), TestContext.Current.CancellationToken);
            var put = await RunAsync(_dir.Path, "config", "put", config, "--dashboard", admin);
            Assert.True(put.Exit == 0, put.Err);
            Assert.Contains("\"version\":1", put.Out, StringComparison.Ordinal);

            using var client = new HttpClient { BaseAddress = new Uri(proxy) };
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/info");
            request.Headers.Host = "cli.test";
            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("\"lb_node\":\"cli-1\"", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);

            var status = await RunAsync(_dir.Path, "cluster", "status", "--dashboard", admin);
            Assert.Equal(0, status.Exit);
            Assert.Contains("\"state\":\"unconfigured\"", status.Out, StringComparison.Ordinal);

            var stopwatch = Stopwatch.StartNew();
            using (var kill = Process.Start("kill", ["-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
            }
            await server.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed} to stop");
            Assert.True(server.ExitCode == 0, output.ToString());
            Assert.Contains($"lb: listening on {proxy}", output.ToString(), StringComparison.Ordinal);
            Assert.Matches(@"GET cli\.test/api/info 200 route=r1 target=127\.0\.0\.1:\d+ [\d.]+ms client=127\.0\.0\.1", output.ToString());
            Assert.True(File.Exists(Path.Combine(_dir.Path, "state", "desired-state.json")));
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill();
            }
        }
    }

    [Fact]
    public async Task An_acknowledged_write_survives_kill_9_and_the_data_dir_lock_is_released()
    {
        var (server, _, _, admin) = await StartServerAsync();
        using (server)
        {
            var config = Path.Combine(_dir.Path, "config.json");
            await File.WriteAllTextAsync(config, Configs.SingleRoute("k9.test", "round_robin", ["127.0.0.1:9"]), TestContext.Current.CancellationToken);
            Assert.Equal(0, (await RunAsync(_dir.Path, "config", "put", config, "--dashboard", admin)).Exit);
            server.Kill(); // SIGKILL: no shutdown hooks run
            await server.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        var (restarted, output, _, admin2) = await StartServerAsync();
        using (restarted)
        {
            try
            {
                var get = await RunAsync(_dir.Path, "config", "get", "--dashboard", admin2);
                Assert.True(get.Exit == 0, get.Err + output);
                Assert.Contains("\"version\":1", get.Out, StringComparison.Ordinal);
                Assert.Contains("k9.test", get.Out, StringComparison.Ordinal);
            }
            finally
            {
                restarted.Kill();
            }
        }
    }

    /// <summary>Starts <c>serve</c> in the temp dir on free loopback ports and waits until the admin API answers.</summary>
    private async Task<(Process Server, System.Text.StringBuilder Output, string Proxy, string Admin)> StartServerAsync()
    {
        var (proxyPort, adminPort) = (ClosedPort.Get(), ClosedPort.Get());
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "app.json"),
            $$"""{"proxyListenAddr":"127.0.0.1:{{proxyPort}}","dashboardListenAddr":"127.0.0.1:{{adminPort}}","raftDataDir":"state","nodeId":"cli-1","accessLog":true}""", TestContext.Current.CancellationToken);
        var server = Start(_dir.Path, "serve", "app.json");
        var output = new System.Text.StringBuilder();
        server.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        server.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        var admin = $"http://127.0.0.1:{adminPort}";
        using var probe = new HttpClient { BaseAddress = new Uri(admin), Timeout = TimeSpan.FromSeconds(5) };
        await ProxyTests.WaitUntilAsync(async () =>
        {
            Assert.False(server.HasExited, "server exited: " + output);
            try
            {
                using var ready = await probe.GetAsync("/api/status", TestContext.Current.CancellationToken);
                return ready.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        });
        return (server, output, $"http://127.0.0.1:{proxyPort}", admin);
    }

    [Fact]
    public async Task Config_validate_lists_every_problem_and_exits_1()
    {
        var file = Path.Combine(_dir.Path, "bad.json");
        await File.WriteAllTextAsync(file, """{"routes":[{"id":"r","upstream_pool":"missing","algorithm":"fastest"}]}""", TestContext.Current.CancellationToken);
        var (exit, _, err) = await RunAsync(_dir.Path, "config", "validate", file);
        Assert.Equal(1, exit);
        Assert.Contains("routes[0].algorithm", err, StringComparison.Ordinal);
        Assert.Contains("routes[0].upstream_pool: referenced upstream_pool does not exist", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_boot_file_stops_serve_with_exit_1_and_names_the_key()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "app.json"), """{"proxyListenAddr":"8080"}""", TestContext.Current.CancellationToken);
        var (exit, _, err) = await RunAsync(_dir.Path, "serve", "app.json");
        Assert.Equal(1, exit);
        Assert.Contains("proxyListenAddr '8080' must be host:port", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_errors_exit_2_and_help_exits_0()
    {
        Assert.Equal(2, (await RunAsync(_dir.Path, "config", "frobnicate")).Exit);
        var help = await RunAsync(_dir.Path, "config", "put", "--help");
        Assert.Equal(0, help.Exit);
        Assert.Contains("--dashboard", help.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_dashboard_is_a_clear_error_with_exit_1()
    {
        var (exit, _, err) = await RunAsync(_dir.Path, "config", "get", "--dashboard", $"http://127.0.0.1:{ClosedPort.Get()}");
        Assert.Equal(1, exit);
        Assert.Contains("cannot reach", err, StringComparison.Ordinal);
    }
}
