using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary>
/// One <c>Lb.Server serve</c> process of a test cluster. Each node gets its own loopback address (127.x.y.z, all local
/// on Linux), so its admin port (9090) and Raft port (7000) are fixed and a restarted node comes back at the same
/// addresses, as a real one does; the proxy listens on port 0.
/// </summary>
internal sealed class ClusterProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private Process? _process;

    private readonly string? _executable;

    private ClusterProcess(string id, string directory, string ip, string? executable)
    {
        Id = id;
        Directory = directory;
        Ip = ip;
        _executable = executable;
    }

    public string Id { get; }
    public string Directory { get; }
    public string Ip { get; }
    public string Admin => $"http://{Ip}:9090";
    public string Raft => $"{Ip}:7000";
    public string Proxy { get; private set; } = "";
    public bool IsRunning => _process is { HasExited: false };

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <param name="root">Directory the node's own directory is created in.</param>
    /// <param name="id">The node id.</param>
    /// <param name="executable">A native <c>lb</c> to run instead of the built <c>lb.dll</c> (the AOT smoke tests).</param>
    public static async Task<ClusterProcess> StartAsync(string root, string id, string? executable = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            var ip = $"127.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}";
            var node = new ClusterProcess(id, Path.Combine(root, id), ip, executable);
            System.IO.Directory.CreateDirectory(node.Directory);
            await File.WriteAllTextAsync(Path.Combine(node.Directory, "app.json"),
                $$"""{"proxyListenAddr":"127.0.0.1:0","dashboardListenAddr":"{{ip}}:9090","raftDataDir":"data","nodeId":"{{id}}"}""");
            try
            {
                await node.StartAsync();
                return node;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // Most likely someone else holds that address: take another one.
                await node.DisposeAsync();
            }
        }
    }

    /// <summary>Starts (or restarts) the process and waits until its admin API answers.</summary>
    public async Task StartAsync()
    {
        var info = new ProcessStartInfo(_executable ?? "dotnet") { WorkingDirectory = Directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (_executable is null)
        {
            info.ArgumentList.Add(RepoPaths.BuiltDll(Path.Combine("samples", "Lb.Server"), "lb.dll"));
        }
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add("app.json");
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Id} exited: {Output}");
            }
            try
            {
                using var ready = await probe.GetAsync(Admin + "/api/node/cluster-status");
                if (ready.IsSuccessStatusCode && Output.Contains("lb: listening on", StringComparison.Ordinal))
                {
                    Proxy = Output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("lb: listening on ", StringComparison.Ordinal))
                        .Select(l => l["lb: listening on ".Length..]).First(u => !u.Contains(Ip, StringComparison.Ordinal));
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or a just-started process (JIT) slower than the probe's 2 s on a busy host.
            }
            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException($"{Id} did not start: {Output}");
            }
            await Task.Delay(100);
        }
    }

    public async Task KillAsync()
    {
        _process!.Kill(); // SIGKILL: no shutdown hooks run
        await _process.WaitForExitAsync();
    }

    public async Task StopAsync()
    {
        using (var term = Process.Start("kill", ["-TERM", _process!.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync();
        }
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
    }

    private void Append(string? line)
    {
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill();
            await p.WaitForExitAsync();
        }
        _process?.Dispose();
    }
}

/// <summary>Reads what a node says about the cluster.</summary>
internal static class ClusterJson
{
    public static async Task<JsonElement> GetAsync(HttpClient http, string url)
    {
        using var response = await http.GetAsync(url);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    public static async Task<(long Version, List<string> RouteIds)> ConfigAsync(HttpClient http, string admin)
    {
        var config = await GetAsync(http, admin + "/api/config");
        return (config.GetProperty("version").GetInt64(), config.GetProperty("routes").EnumerateArray().Select(r => r.GetProperty("id").GetString()!).ToList());
    }

    /// <summary>A config whose routes are <paramref name="routeIds"/> (each a marker of one write), all to one pool.</summary>
    public static string Config(IEnumerable<string> routeIds, string upstream, long? version)
    {
        var routes = string.Join(",", routeIds.Select(id => $$"""{"id":"{{id}}","enabled":true,"match":{"hosts":["{{id}}.test"]},"upstream_pool":"p"}"""));
        var versionPart = version is { } v ? $",\"version\":{v}" : "";
        return "{\"routes\":[" + routes + "],\"upstream_pools\":{\"p\":{\"upstreams\":[\"" + upstream + "\"]}}" + versionPart + "}";
    }

    public static async Task<(HttpStatusCode Status, string Body)> PutAsync(HttpClient http, string admin, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await http.PutAsync(admin + "/api/config", content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
