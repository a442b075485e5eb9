using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>The reference server run the way an operator runs it: as a separate process driven by its own CLI.</summary>
public sealed partial class CliProcessTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string ServerDll() => RepoPaths.BuiltDll(Path.Combine("samples", "Lb.Server"), "lb.dll");

    private static Process Start(string workingDirectory, params string[] args) => Start(workingDirectory, null, false, args);

    private static Process Start(string workingDirectory, IDictionary<string, string>? environment, bool redirectStdin, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = redirectStdin, UseShellExecute = false };
        // The token variable of the machine running the tests must not leak into a test.
        info.Environment.Remove("LB_ADMIN_TOKEN");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        info.ArgumentList.Add(ServerDll());
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return Process.Start(info)!;
    }

    internal static Task<(int Exit, string Out, string Err)> RunAsync(string workingDirectory, params string[] args) =>
        RunWithAsync(workingDirectory, null, null, args);

    internal static async Task<(int Exit, string Out, string Err)> RunWithAsync(string workingDirectory, IDictionary<string, string>? environment, string? stdin, params string[] args)
    {
        using var process = Start(workingDirectory, environment, stdin is not null, args);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
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

            Signals.Send(server, Signals.SigTerm);
            // A bound for a hung process, not a speed requirement.
            await server.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            Assert.True(server.ExitCode == 0, output.ToString());
            Assert.Contains($"lb: listening on {proxy}", output.ToString(), StringComparison.Ordinal);
            Assert.Contains("lb: stopped", output.ToString(), StringComparison.Ordinal);
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

    /// <summary>
    /// Starts <c>serve</c> in the temp dir with both listeners on 127.0.0.1 port 0, reads the ports the OS chose from its
    /// "listening on" lines (proxy first, admin second) and waits until the admin API answers.
    /// </summary>
    private Task<(Process Server, ProcessOutput Output, string Proxy, string Admin)> StartServerAsync(string bootFile = "app.json", string[]? args = null, string extraKeys = "") =>
        StartServerAsync(_dir.Path, bootFile, args, extraKeys);

    internal static async Task<(Process Server, ProcessOutput Output, string Proxy, string Admin)> StartServerAsync(string directory, string bootFile = "app.json", string[]? args = null, string extraKeys = "")
    {
        var path = Path.Combine(directory, bootFile);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path,
            $$"""{"proxyListenAddr":"127.0.0.1:0","dashboardListenAddr":"127.0.0.1:0","raftDataDir":"state","nodeId":"cli-1","accessLog":true{{extraKeys}}}""", TestContext.Current.CancellationToken);
        var server = Start(directory, args ?? ["serve", bootFile]);
        var output = new ProcessOutput(server);
        var urls = await output.WaitForAsync(ListeningOn(), 2);
        var (proxy, admin) = (urls[0].TrimEnd('/'), urls[1].TrimEnd('/'));
        using var probe = new HttpClient { BaseAddress = new Uri(admin), Timeout = TimeSpan.FromSeconds(30) };
        using var ready = await probe.GetAsync("/api/status", TestContext.Current.CancellationToken);
        Assert.True(ready.IsSuccessStatusCode, output.ToString());
        return (server, output, proxy, admin);
    }

    [GeneratedRegex(@"lb: listening on (http://\S+)")]
    private static partial Regex ListeningOn();

    internal static bool Accepts(int port)
    {
        try
        {
            using var socket = new System.Net.Sockets.TcpClient();
            socket.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    [Theory]
    [InlineData("node.json", "node.json")] // a bare app.json argument serves with that file
    [InlineData("configs/app.json", null)] // no arguments: configs/app.json
    public async Task Serve_reads_the_boot_file_it_is_given_or_configs_app_json(string bootFile, string? argument)
    {
        var (server, output, _, admin) = await StartServerAsync(bootFile, argument is null ? [] : [argument]);
        using (server)
        {
            try
            {
                var status = await RunAsync(_dir.Path, "cluster", "status", "--dashboard", admin);
                Assert.True(status.Exit == 0, status.Err + output);
                Assert.Contains("\"node_id\":\"cli-1\"", status.Out, StringComparison.Ordinal);
            }
            finally
            {
                server.Kill();
            }
        }
    }

    [Fact]
    public async Task A_proxy_port_already_in_use_is_cannot_start_with_exit_1()
    {
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "app.json"),
            $$"""{"proxyListenAddr":"127.0.0.1:{{port}}","dashboardListenAddr":"127.0.0.1:0","raftDataDir":"state"}""", TestContext.Current.CancellationToken);
        var (exit, _, err) = await RunAsync(_dir.Path, "serve", "app.json");
        Assert.Equal(1, exit);
        // One line that names the key, no stack trace.
        Assert.Equal($"lb: cannot start: proxyListenAddr '127.0.0.1:{port}' is already in use by another process; stop it or choose another port in app.json", err.Trim());
    }

    [Fact]
    public async Task Config_validate_of_a_good_file_exits_0_and_summarises_it()
    {
        var file = Path.Combine(_dir.Path, "good.json");
        await File.WriteAllTextAsync(file, Configs.SingleRoute("ok.test", "round_robin", ["127.0.0.1:9"]), TestContext.Current.CancellationToken);
        var (exit, stdout, err) = await RunAsync(_dir.Path, "config", "validate", file);
        Assert.True(exit == 0, err);
        Assert.Matches(@"^valid \(1 routes, 1 pools, content hash [0-9a-f]{64}\)", stdout);
    }

    [Fact]
    public async Task Config_validate_reads_standard_input_for_a_dash()
    {
        var good = await RunWithAsync(_dir.Path, null, Configs.SingleRoute("ok.test", "round_robin", ["127.0.0.1:9"]), "config", "validate", "-");
        Assert.True(good.Exit == 0, good.Err);
        var bad = await RunWithAsync(_dir.Path, null, """{"routes":[{"id":"r","upstream_pool":"missing"}]}""", "config", "validate", "-");
        Assert.Equal(1, bad.Exit);
        Assert.Contains("routes[0].upstream_pool", bad.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dashboard_that_is_not_an_http_url_is_a_usage_error()
    {
        var (exit, _, err) = await RunAsync(_dir.Path, "config", "get", "--dashboard", "localhost:9090");
        Assert.Equal(2, exit);
        Assert.Contains("--dashboard 'localhost:9090' must be an absolute http(s) URL", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cluster_bootstrap_and_join_check_their_flags()
    {
        Assert.Equal(2, (await RunAsync(_dir.Path, "cluster", "bootstrap", "--raft-advertise", "127.0.0.1:7000")).Exit); // no --node-id
        var vip = await RunAsync(_dir.Path, "cluster", "bootstrap", "--node-id", "n1", "--raft-advertise", "127.0.0.1:7000", "--vip-address", "10.0.0.100/24");
        Assert.Equal(2, vip.Exit);
        Assert.Contains("--vip-interface is required when --vip-address is set", vip.Err, StringComparison.Ordinal);
        Assert.Equal(2, (await RunAsync(_dir.Path, "cluster", "join", "--node-id", "n2", "--raft-advertise", "127.0.0.1:7001")).Exit); // no --peer
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
    public async Task Without_a_token_the_admin_api_on_all_interfaces_binds_loopback_only_and_says_so()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "app.json"),
            """{"proxyListenAddr":"127.0.0.1:0","dashboardListenAddr":":0","dataDir":"state"}""", TestContext.Current.CancellationToken);
        using var server = Start(_dir.Path, "serve", "app.json");
        var output = new ProcessOutput(server);
        try
        {
            var urls = await output.WaitForAsync(ListeningOn(), 2);
            Assert.StartsWith("http://127.0.0.1:", urls[1], StringComparison.Ordinal);
            await output.WaitForAsync(LoopbackOnlyLine());
        }
        finally
        {
            server.Kill();
        }
    }

    [GeneratedRegex(@"(lb: admin API on loopback only: no adminToken is set)")]
    private static partial Regex LoopbackOnlyLine();

    [Fact]
    public async Task Serve_with_an_invalid_config_file_refuses_to_start_and_lists_the_problems()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "app.json"),
            """{"proxyListenAddr":"127.0.0.1:0","dashboardListenAddr":"127.0.0.1:0","dataDir":"state"}""", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "routes.json"), """{"routes":[{"id":"r","upstream_pool":"missing"}]}""", TestContext.Current.CancellationToken);
        var (exit, stdout, err) = await RunAsync(_dir.Path, "serve", "app.json", "--config", "routes.json");
        Assert.Equal(1, exit);
        Assert.Contains("lb: routes.json: not loaded, nothing started: 1 problem", err, StringComparison.Ordinal);
        Assert.Contains("  routes[0].upstream_pool: referenced upstream_pool does not exist", err, StringComparison.Ordinal);
        Assert.DoesNotContain("listening on", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_config_loads_the_file_at_start_and_sighup_or_config_reload_re_read_it_through_validation()
    {
        await using var backend = await TestBackend.StartAsync("file-backend");
        var routes = Path.Combine(_dir.Path, "routes.json");
        await File.WriteAllTextAsync(routes, Configs.SingleRoute("one.test", "round_robin", backend), TestContext.Current.CancellationToken);
        var (server, output, proxy, admin) = await StartServerAsync(args: ["serve", "app.json", "--config", "routes.json"]);
        using var _ = server;
        try
        {
            using var adminClient = new HttpClient { BaseAddress = new Uri(admin) };
            await output.WaitForAsync(LoadedVersion());
            Assert.Contains("one.test", await adminClient.GetStringAsync("/api/config", TestContext.Current.CancellationToken), StringComparison.Ordinal);

            // SIGHUP: the edited file becomes the next version, and the node keeps running.
            await File.WriteAllTextAsync(routes, Configs.SingleRoute("two.test", "round_robin", backend), TestContext.Current.CancellationToken);
            Signals.Send(server, Signals.SigHup);
            await output.WaitForAsync(ReloadedAsVersion2());
            Assert.Contains("two.test", await adminClient.GetStringAsync("/api/config", TestContext.Current.CancellationToken), StringComparison.Ordinal);
            Assert.False(server.HasExited);

            // An invalid edit is refused whole: the CLI lists the problems, the running version stays.
            await File.WriteAllTextAsync(routes, """{"routes":[{"id":"r","upstream_pool":"missing"}]}""", TestContext.Current.CancellationToken);
            var refused = await RunAsync(_dir.Path, "config", "reload", "--dashboard", admin);
            Assert.Equal(1, refused.Exit);
            Assert.Contains("lb: dashboard API returned 422", refused.Err, StringComparison.Ordinal);
            Assert.Contains("  routes[0].upstream_pool: referenced upstream_pool does not exist", refused.Err, StringComparison.Ordinal);
            Assert.Contains("\"version\":2", await adminClient.GetStringAsync("/api/config", TestContext.Current.CancellationToken), StringComparison.Ordinal);

            await File.WriteAllTextAsync(routes, Configs.SingleRoute("three.test", "round_robin", backend), TestContext.Current.CancellationToken);
            var reloaded = await RunAsync(_dir.Path, "config", "reload", "--dashboard", admin);
            Assert.True(reloaded.Exit == 0, reloaded.Err);
            Assert.Contains("\"version\":3", reloaded.Out, StringComparison.Ordinal);

            using var client = new HttpClient { BaseAddress = new Uri(proxy) };
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Host = "three.test";
            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        finally
        {
            server.Kill();
        }
    }

    [GeneratedRegex(@"(lb: loaded routes\.json as configuration version 1)")]
    private static partial Regex LoadedVersion();

    [GeneratedRegex(@"(Loaded routes\.json: configuration version 2)")]
    private static partial Regex ReloadedAsVersion2();

    [Fact]
    public async Task A_mistyped_command_is_an_unknown_command_with_a_suggestion_not_a_missing_boot_file()
    {
        var top = await RunAsync(_dir.Path, "confg", "get");
        Assert.Equal(2, top.Exit);
        Assert.Contains("lb: unknown command 'confg'; did you mean 'config'?", top.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("not found", top.Err, StringComparison.Ordinal);

        var sub = await RunAsync(_dir.Path, "config", "gte");
        Assert.Equal(2, sub.Exit);
        Assert.Contains("lb: unknown command 'config gte'; did you mean 'config get'?", sub.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cluster_help_offers_status_bootstrap_join_and_remove()
    {
        var help = await RunAsync(_dir.Path, "cluster", "--help");
        Assert.Equal(0, help.Exit);
        foreach (var command in (string[])["status", "bootstrap", "join", "remove"])
        {
            Assert.Matches($@"(?m)^\s+{command}\s", help.Out);
        }
    }

    [Fact]
    public async Task Config_validate_of_trailing_data_has_no_empty_field_name()
    {
        var file = Path.Combine(_dir.Path, "two.json");
        await File.WriteAllTextAsync(file, "{} {}", TestContext.Current.CancellationToken);
        var (exit, _, err) = await RunAsync(_dir.Path, "config", "validate", file);
        Assert.Equal(1, exit);
        Assert.StartsWith($"lb: {file}: ", err, StringComparison.Ordinal);
        Assert.DoesNotContain(": :", err, StringComparison.Ordinal);
        Assert.DoesNotContain("  : ", err, StringComparison.Ordinal);
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
        using var refusing = new RefusingPort();
        var (exit, _, err) = await RunAsync(_dir.Path, "config", "get", "--dashboard", $"http://{refusing.Address}");
        Assert.Equal(1, exit);
        Assert.Contains("cannot reach", err, StringComparison.Ordinal);
    }
}

/// <summary>The CLI's client commands against a node running in the test process (with an admin token).</summary>
public sealed class CliClientTests : IAsyncLifetime
{
    private const string Token = "cli-client-test-token-0123456789";
    private readonly TempDirectory _dir = new();
    private LbServer _lb = null!;

    public async ValueTask InitializeAsync()
    {
        _lb = await LbServer.StartAsync(admin: o => o.AdminToken = Token);
        _lb.Admin.DefaultRequestHeaders.Authorization = new("Bearer", Token); // for the test's own setup writes
    }

    public async ValueTask DisposeAsync()
    {
        await _lb.DisposeAsync();
        _dir.Dispose();
    }

    private string Admin => _lb.AdminUri.ToString().TrimEnd('/');

    private static string Config(string host) => Configs.SingleRoute(host, "round_robin", ["127.0.0.1:9"]);

    [Fact]
    public async Task Config_put_reads_standard_input_and_sends_the_token_option()
    {
        var put = await CliProcessTests.RunWithAsync(_dir.Path, null, Config("stdin.test"), "config", "put", "-", "--dashboard", Admin, "--token", Token);
        Assert.True(put.Exit == 0, put.Err);
        Assert.Contains("\"version\":1", put.Out, StringComparison.Ordinal);
        Assert.Contains("stdin.test", (await _lb.Admin.GetStringAsync("/api/config", TestContext.Current.CancellationToken)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_token_comes_from_LB_ADMIN_TOKEN_and_without_it_a_write_is_refused()
    {
        var file = Path.Combine(_dir.Path, "config.json");
        await File.WriteAllTextAsync(file, Config("env.test"), TestContext.Current.CancellationToken);
        var refused = await CliProcessTests.RunAsync(_dir.Path, "config", "put", file, "--dashboard", Admin);
        Assert.Equal(1, refused.Exit);
        Assert.Contains("dashboard API returned 401", refused.Err, StringComparison.Ordinal);
        Assert.Contains("Authorization: send the header", refused.Err, StringComparison.Ordinal);

        var env = new Dictionary<string, string> { ["LB_ADMIN_TOKEN"] = Token };
        var put = await CliProcessTests.RunWithAsync(_dir.Path, env, null, "config", "put", file, "--dashboard", Admin);
        Assert.True(put.Exit == 0, put.Err);
    }

    [Fact]
    public async Task Config_put_if_version_applies_only_on_that_version()
    {
        var file = Path.Combine(_dir.Path, "config.json");
        await File.WriteAllTextAsync(file, Config("v.test"), TestContext.Current.CancellationToken);
        var first = await CliProcessTests.RunWithAsync(_dir.Path, null, null, "config", "put", file, "--if-version", "0", "--dashboard", Admin, "--token", Token);
        Assert.True(first.Exit == 0, first.Err);
        Assert.Contains("\"version\":1", first.Out, StringComparison.Ordinal);

        var stale = await CliProcessTests.RunWithAsync(_dir.Path, null, null, "config", "put", file, "--if-version", "0", "--dashboard", Admin, "--token", Token);
        Assert.Equal(1, stale.Exit);
        Assert.Contains("412", stale.Err, StringComparison.Ordinal);
        Assert.Contains("configuration changed since version 0 (now 1)", stale.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rejected_put_prints_one_headline_and_one_line_per_problem_not_the_raw_json()
    {
        var file = Path.Combine(_dir.Path, "bad.json");
        await File.WriteAllTextAsync(file, """{"routes":[{"id":"r","upstream_pool":"missing"}]}""", TestContext.Current.CancellationToken);
        var (exit, _, err) = await CliProcessTests.RunAsync(_dir.Path, "config", "put", file, "--dashboard", Admin, "--token", Token);
        Assert.Equal(1, exit);
        var lines = err.Trim().Split('\n');
        Assert.StartsWith("lb: dashboard API returned 422", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("  routes[0].upstream_pool: referenced upstream_pool does not exist", lines[1], StringComparison.Ordinal);
        Assert.Equal(2, lines.Length);
        Assert.DoesNotContain("{\"", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_explain_prints_the_matching_route()
    {
        await _lb.PutConfigAsync(Config("explain.test"));
        var (exit, stdout, err) = await CliProcessTests.RunAsync(_dir.Path, "config", "explain", "--host", "EXPLAIN.test:8080", "--path", "/x", "--dashboard", Admin);
        Assert.True(exit == 0, err);
        Assert.Contains("\"r1\"", stdout, StringComparison.Ordinal);
        Assert.Contains("explain.test", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_cluster_bootstrap_prints_the_reason_and_exits_1()
    {
        var (exit, _, err) = await CliProcessTests.RunAsync(_dir.Path, "cluster", "bootstrap", "--node-id", "n 1", "--raft-advertise", "127.0.0.1:7000", "--dashboard", Admin, "--token", Token);
        Assert.Equal(1, exit);
        Assert.Contains("400", err, StringComparison.Ordinal);
        Assert.Contains("invalid_node_id", err, StringComparison.Ordinal);
    }
}
