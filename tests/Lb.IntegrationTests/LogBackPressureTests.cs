using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>
/// Logging never holds a request thread (issue #16: nothing blocking on I/O threads). The reference server runs as a
/// process whose standard output nobody reads after start-up, so the pipe fills and every write to it would block;
/// with the access log on, each proxied request produces a line.
/// </summary>
public abstract partial class LogBackPressureTests(ProxyPath path) : ProxyPathTests(path), IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("text")]
    [InlineData("json")]
    public async Task Proxied_requests_keep_being_answered_when_nobody_reads_the_access_log_on_stdout(string format)
    {
        await using var backend = await TestBackend.StartAsync("logged");
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "app.json"),
            """{"proxyListenAddr":"127.0.0.1:0","dashboardListenAddr":"127.0.0.1:0","raftDataDir":"state","accessLog":true,"accessLogFormat":""" + $"\"{format}\"{FastPathKey}}}", Ct);
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = _dir.Path, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment.Remove("LB_ADMIN_TOKEN");
        info.ArgumentList.Add(RepoPaths.BuiltDll(Path.Combine("samples", "Lb.Server"), "lb.dll"));
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add("app.json");
        using var server = Process.Start(info)!;
        var stderr = server.StandardError.ReadToEndAsync(Ct);
        try
        {
            // Read stdout only until both listeners are announced; from then on it is a pipe nobody drains.
            var urls = new List<string>();
            while (urls.Count < 2)
            {
                var line = await server.StandardOutput.ReadLineAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Ct);
                if (line is null)
                {
                    Assert.Fail("the server exited: " + await stderr);
                }
                if (ListeningOn().Match(line) is { Success: true } match)
                {
                    urls.Add(match.Groups[1].Value);
                }
            }
            using var admin = new HttpClient { BaseAddress = new Uri(urls[1]), Timeout = TimeSpan.FromSeconds(30) };
            using var put = await admin.PutAsync("/api/config", new StringContent(Configs.SingleRoute("log.test", "round_robin", backend), System.Text.Encoding.UTF8, "application/json"), Ct);
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync(Ct));

            // ~130 bytes a line: 4,000 lines are several times the 64 KiB pipe plus the logger's 2,500-line queue.
            using var proxy = new HttpClient { BaseAddress = new Uri(urls[0]), Timeout = TimeSpan.FromSeconds(30) };
            var answered = 0;
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                for (var i = 0; i < 500; i++)
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, "/api/info");
                    request.Headers.Host = "log.test";
                    // A blocked logger shows up here as a request that never completes (the client's 30 s timeout).
                    using var response = await proxy.SendAsync(request, Ct);
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    Interlocked.Increment(ref answered);
                }
            }, Ct)));
            Assert.Equal(4000, answered);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync(CancellationToken.None);
        }
    }

    [GeneratedRegex(@"lb: listening on (http://\S+)")]
    private static partial Regex ListeningOn();
}

public sealed class LogBackPressureTestsOnYarpPath() : LogBackPressureTests(ProxyPath.Yarp);

public sealed class LogBackPressureTestsOnFastPath() : LogBackPressureTests(ProxyPath.Fast);

public sealed class LogBackPressureTestsOnLoopPath() : LogBackPressureTests(ProxyPath.Loop);
