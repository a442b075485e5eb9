using System.Net;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>Graceful shutdown of the reference server run as a process: in-flight requests finish, new connections are refused.</summary>
public abstract class DrainTests(ProxyPath path) : ProxyPathTests(path), IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }

    private static Task<(int Exit, string Out, string Err)> RunAsync(string workingDirectory, params string[] args) => CliProcessTests.RunAsync(workingDirectory, args);

    private static bool Accepts(int port) => CliProcessTests.Accepts(port);

    private Task<(System.Diagnostics.Process Server, ProcessOutput Output, string Proxy, string Admin)> StartServerAsync(string extraKeys = "") =>
        CliProcessTests.StartServerAsync(_dir.Path, extraKeys: FastPathKey + extraKeys);

    [Fact]
    public async Task Sigterm_lets_an_in_flight_request_finish_then_exits_0_by_itself()
    {
        await using var backend = await TestBackend.StartAsync("drain-backend");
        var (server, output, proxy, admin) = await StartServerAsync();
        using var _ = server;
        try
        {
            var config = Path.Combine(_dir.Path, "config.json");
            await File.WriteAllTextAsync(config, Configs.SingleRoute("drain.test", "round_robin", backend), TestContext.Current.CancellationToken);
            Assert.Equal(0, (await RunAsync(_dir.Path, "config", "put", config, "--dashboard", admin)).Exit);

            using var client = new HttpClient { BaseAddress = new Uri(proxy), Timeout = TimeSpan.FromSeconds(60) };
            using var request = new HttpRequestMessage(HttpMethod.Get, "/hold");
            request.Headers.Host = "drain.test";
            var inFlight = client.SendAsync(request, TestContext.Current.CancellationToken);
            await backend.WaitForHeldAsync();

            Signals.Send(server, Signals.SigTerm);
            // Shutdown has begun once the proxy listener stops taking connections; only then let the request finish.
            var proxyPort = new Uri(proxy).Port;
            await ProxyTests.WaitUntilAsync(() => !Accepts(proxyPort));
            Assert.False(server.HasExited);
            backend.ReleaseHeld();

            using var response = await inFlight;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("drain-backend", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
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

    [Fact]
    public async Task Sigterm_during_a_3_second_request_lets_it_finish_refuses_new_connections_and_exits_0_with_stopped()
    {
        await using var backend = await TestBackend.StartAsync("slow-backend");
        var (server, output, proxy, admin) = await StartServerAsync();
        using var _ = server;
        try
        {
            var config = Path.Combine(_dir.Path, "config.json");
            await File.WriteAllTextAsync(config, Configs.SingleRoute("slow.test", "round_robin", backend), TestContext.Current.CancellationToken);
            Assert.Equal(0, (await RunAsync(_dir.Path, "config", "put", config, "--dashboard", admin)).Exit);

            using var client = new HttpClient { BaseAddress = new Uri(proxy), Timeout = TimeSpan.FromSeconds(60) };
            using var request = new HttpRequestMessage(HttpMethod.Get, "/sleep/3000");
            request.Headers.Host = "slow.test";
            var inFlight = client.SendAsync(request, TestContext.Current.CancellationToken);
            await ProxyTests.WaitUntilAsync(() => backend.Requests >= 1);
            Signals.Send(server, Signals.SigTerm);

            // While it drains, the proxy port takes no new connections but the process is still there.
            var proxyPort = new Uri(proxy).Port;
            await ProxyTests.WaitUntilAsync(() => !Accepts(proxyPort) || inFlight.IsCompleted);
            using var response = await inFlight;
            Assert.True(response.StatusCode == HttpStatusCode.OK, output.ToString());
            Assert.Equal("slow-backend", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            Assert.False(Accepts(proxyPort));
            await server.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            Assert.True(server.ExitCode == 0, $"exit {server.ExitCode}: {output}");
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

    [Fact]
    public async Task A_request_still_running_after_drainTimeout_is_cut_and_the_node_still_exits_0()
    {
        await using var backend = await TestBackend.StartAsync("held-backend");
        var (server, output, proxy, admin) = await StartServerAsync(extraKeys: ",\"drainTimeout\":\"1s\"");
        using var _ = server;
        try
        {
            var config = Path.Combine(_dir.Path, "config.json");
            await File.WriteAllTextAsync(config, Configs.SingleRoute("held.test", "round_robin", backend), TestContext.Current.CancellationToken);
            Assert.Equal(0, (await RunAsync(_dir.Path, "config", "put", config, "--dashboard", admin)).Exit);

            using var client = new HttpClient { BaseAddress = new Uri(proxy), Timeout = TimeSpan.FromSeconds(60) };
            using var request = new HttpRequestMessage(HttpMethod.Get, "/hold");
            request.Headers.Host = "held.test";
            var inFlight = client.SendAsync(request, TestContext.Current.CancellationToken);
            await backend.WaitForHeldAsync();
            Signals.Send(server, Signals.SigTerm);

            // The backend never answers: the node gives up after drainTimeout instead of waiting for it.
            await server.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            Assert.True(server.ExitCode == 0, $"exit {server.ExitCode}: {output}");
            Assert.Contains("lb: stopped", output.ToString(), StringComparison.Ordinal);
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => inFlight);
        }
        finally
        {
            backend.ReleaseHeld();
            if (!server.HasExited)
            {
                server.Kill();
            }
        }
    }
}

public sealed class DrainTestsOnYarpPath() : DrainTests(ProxyPath.Yarp);

public sealed class DrainTestsOnFastPath() : DrainTests(ProxyPath.Fast);

public sealed class DrainTestsOnLoopPath() : DrainTests(ProxyPath.Loop);
