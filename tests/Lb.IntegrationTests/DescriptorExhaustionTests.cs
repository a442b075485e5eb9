using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>
/// The reference server as a child process with a small descriptor limit (RLIMIT_NOFILE 1024, soft and hard), flooded
/// with idle connections. Before the connection budget the process died with SIGABRT ("Out of memory.") once health
/// probes ran while descriptors were exhausted.
/// </summary>
public sealed partial class DescriptorExhaustionTests : IDisposable
{
    private const int Flood = 1500; // more than the whole descriptor limit of the server

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task An_idle_connection_flood_beyond_the_descriptor_limit_leaves_the_node_alive_and_serving()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var backend = await TestBackend.StartAsync("fd-backend");
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "app.json"),
            """{"proxyListenAddr":"127.0.0.1:0","dashboardListenAddr":"127.0.0.1:0","raftDataDir":"state"}""", ct);
        var info = new ProcessStartInfo("bash") { WorkingDirectory = _dir.Path, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"ulimit -n 1024 && exec dotnet '{RepoPaths.BuiltDll(Path.Combine("samples", "Lb.Server"), "lb.dll")}' serve app.json");
        using var server = Process.Start(info)!;
        var output = new StringBuilder();
        var urls = new List<Uri>();
        server.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
                if (e.Data is { } line && Listening().Match(line) is { Success: true } m)
                {
                    urls.Add(new Uri(m.Groups[1].Value));
                }
            }
        };
        server.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        var clients = new List<Socket>();
        try
        {
            await ProxyTests.WaitUntilAsync(() =>
            {
                lock (output)
                {
                    Assert.False(server.HasExited, "server exited: " + output);
                    return urls.Count == 2;
                }
            });
            var (proxy, admin) = (urls[0], urls[1]); // listeners bind in declaration order
            using var adminClient = new HttpClient { BaseAddress = admin, Timeout = TimeSpan.FromSeconds(10) };
            using var put = await adminClient.PutAsync("/api/config", new StringContent(Configs.SingleRoute("fd.test", "round_robin", [backend.Address],
                ""","health_check":{"path":"/health","interval":"200ms","timeout":"100ms","expect_status":200}"""), Encoding.UTF8, "application/json"), ct);
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);

            // A keep-alive client connected before the flood keeps its connection and keeps being served.
            using var regular = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
            {
                BaseAddress = proxy,
                Timeout = TimeSpan.FromSeconds(10),
            };
            await ProxyTests.WaitUntilAsync(async () => await GetStatusAsync(regular, ct) == HttpStatusCode.OK); // first probe passed

            for (var i = 0; i < Flood; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                clients.Add(socket);
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, proxy.Port), ct);
                }
                catch (SocketException)
                {
                    await Task.Delay(500, ct);
                    Assert.False(server.HasExited, $"server died after {i} connections: " + output);
                    throw;
                }
            }
            // Hold the flood across several probe rounds: probes need descriptors and threads while the budget is full.
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
            Assert.False(server.HasExited, "server died during the flood: " + output);
            Assert.Equal(HttpStatusCode.OK, await GetStatusAsync(regular, ct));
            using (var status = await adminClient.GetAsync("/api/status", ct))
            {
                Assert.Equal(HttpStatusCode.OK, status.StatusCode); // the admin listener has its own budget
            }
            var metrics = await adminClient.GetStringAsync("/metrics", ct);
            var rejected = RejectedProxy().Match(metrics);
            Assert.True(rejected.Success, metrics);
            Assert.True(long.Parse(rejected.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, metrics);

            foreach (var socket in clients)
            {
                socket.Dispose();
            }
            clients.Clear();
            // Fresh connections are served again once the flood is gone.
            await ProxyTests.WaitUntilAsync(async () =>
            {
                using var fresh = new HttpClient { BaseAddress = proxy, Timeout = TimeSpan.FromSeconds(5) };
                try
                {
                    return await GetStatusAsync(fresh, ct) == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            });
            Assert.False(server.HasExited, output.ToString());
        }
        finally
        {
            foreach (var socket in clients)
            {
                socket.Dispose();
            }
            if (!server.HasExited)
            {
                server.Kill();
            }
        }
    }

    private static async Task<HttpStatusCode> GetStatusAsync(HttpClient client, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/info");
        request.Headers.Host = "fd.test";
        using var response = await client.SendAsync(request, ct);
        return response.StatusCode;
    }

    [GeneratedRegex(@"^lb: listening on (\S+)$")]
    private static partial Regex Listening();

    [GeneratedRegex(@"lb_listener_connections_rejected_total\{listener=""proxy""\} (\d+)")]
    private static partial Regex RejectedProxy();
}
